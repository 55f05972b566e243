import ContainerBasics
/// `${NAME}` substitution of recipe args into string values. `$${` writes a literal `${`, so a
/// shell variable can still be spelt `$${HOME}`; a bare `$HOME` is left alone.
package struct Interpolation {
    struct Result {
        var value: String
        var used: Set<String> = []
        /// Problems with the offset (in Unicode scalars) of the `$` they concern.
        var problems: [(offset: Int, message: String)] = []
    }

    /// The arg names `${…}` in `text` refers to, each once, in order.
    package static func names(in text: String) -> [String] {
        var names: [String] = []
        var rest = Substring(text)
        while let start = rest.range(of: "${") {
            if start.lowerBound > rest.startIndex, rest[rest.index(before: start.lowerBound)] == "$" {
                rest = rest[start.upperBound...]
                continue
            }
            guard let close = rest[start.upperBound...].firstIndex(of: "}") else { break }
            let name = String(rest[start.upperBound..<close])
            if !names.contains(name) { names.append(name) }
            rest = rest[rest.index(after: close)...]
        }
        return names
    }

    static func apply(_ text: String, args: [String: String]) -> Result {
        guard text.contains("$") else { return Result(value: text) }
        let scalars = Array(text.unicodeScalars)
        var result = Result(value: "")
        var output = String.UnicodeScalarView()
        var index = 0
        while index < scalars.count {
            let scalar = scalars[index]
            if scalar == "$", index + 2 < scalars.count, scalars[index + 1] == "$", scalars[index + 2] == "{" {
                output.append(contentsOf: ["$", "{"])
                index += 3
                continue
            }
            if scalar == "$", index + 1 < scalars.count, scalars[index + 1] == "{" {
                guard let close = scalars[(index + 2)...].firstIndex(of: "}") else {
                    result.problems.append((index, "unterminated '${' (write $${ for a literal '${')"))
                    output.append(contentsOf: scalars[index...])
                    break
                }
                let name = String(String.UnicodeScalarView(scalars[(index + 2)..<close]))
                if !Names.isValidName(Substring(name)) {
                    result.problems.append((index, "'${\(name)}' is not a valid arg name (letters, digits and _, not starting with a digit)"))
                } else if let value = args[name] {
                    result.used.insert(name)
                    output.append(contentsOf: value.unicodeScalars)
                    index = close + 1
                    continue
                } else {
                    let hint = didYouMean(name, among: args.keys)
                    let shellHint = hint.isEmpty ? "; declare it under 'args:', or write $${\(name)} for a shell variable" : hint
                    result.problems.append((index, "undefined arg '${\(name)}'\(shellHint)"))
                }
                output.append(contentsOf: scalars[index...close])
                index = close + 1
                continue
            }
            output.append(scalar)
            index += 1
        }
        result.value = String(output)
        return result
    }
}
