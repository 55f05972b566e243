#if canImport(Glibc)
import Glibc
#endif
import ContainerBasics

extension StringProtocol {
    /// The text without leading and trailing spaces, tabs and newlines.
    package func trimmingWhitespace() -> String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }
        guard let start = firstIndex(where: { !isSpace($0) }) else { return "" }
        guard let end = lastIndex(where: { !isSpace($0) }) else { return "" }
        return String(self[start...end])
    }
}

/// Edit distance counting a swap of neighbours as one edit (optimal string alignment), for
/// "did you mean" suggestions on misspelt keys and names.
func levenshtein(_ a: String, _ b: String) -> Int {
    let a = Array(a.utf8), b = Array(b.utf8)
    if a.isEmpty { return b.count }
    if b.isEmpty { return a.count }
    var table = [[Int]](repeating: [Int](repeating: 0, count: b.count + 1), count: a.count + 1)
    for i in 0...a.count { table[i][0] = i }
    for j in 0...b.count { table[0][j] = j }
    for i in 1...a.count {
        for j in 1...b.count {
            let cost = a[i - 1] == b[j - 1] ? 0 : 1
            table[i][j] = Swift.min(table[i - 1][j] + 1, table[i][j - 1] + 1, table[i - 1][j - 1] + cost)
            if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] {
                table[i][j] = Swift.min(table[i][j], table[i - 2][j - 2] + 1)
            }
        }
    }
    return table[a.count][b.count]
}

/// The closest candidate to `word` when it is close enough to be a likely typo.
package func suggestion(for word: String, among candidates: some Sequence<String>) -> String? {
    let lowered = word.lowercased()
    let scored = candidates.map { ($0, levenshtein(lowered, $0.lowercased())) }
    guard let best = scored.min(by: { ($0.1, $0.0) < ($1.1, $1.0) }) else { return nil }
    // Close enough to be a typo, and not merely as different as any short word is.
    let limit = Swift.max(1, Swift.min(3, word.count / 3))
    return best.1 <= limit && best.1 < word.count ? best.0 : nil
}

/// ` (did you mean 'x'?)` or nothing.
package func didYouMean(_ word: String, among candidates: some Sequence<String>) -> String {
    guard let best = suggestion(for: word, among: candidates) else { return "" }
    return "; did you mean '\(best)'?"
}

extension String {
    /// The text before the last `/`, found by bytes (not grapheme clusters), or nil.
    package var parentPath: Substring? {
        guard let slash = utf8.lastIndex(of: 0x2F) else { return nil }
        return self[..<slash]
    }

    /// The text after the last `/` (the whole text when there is none).
    var lastPathComponent: Substring {
        guard let slash = utf8.lastIndex(of: 0x2F) else { return self[...] }
        return self[index(after: slash)...]
    }
}

extension Substring {
    package var parentPath: Substring? {
        guard let slash = utf8.lastIndex(of: 0x2F) else { return nil }
        return self[..<slash]
    }
}
