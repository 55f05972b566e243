import Foundation
import Testing
@testable import ImageGen
@testable import ImageGenValues
@testable import BuildContext
@testable import Recipes
@testable import Planning
@testable import LayerInspection
@testable import RegistryCache

/// The layer memo: a second plan with nothing changed reuses each layer's inputs, and any change
/// a file's stamp can show (content, inode, ctime) or a parent's hash makes it plan afresh.
@Suite("Layer memo")
struct LayerInputsCacheTests {
    static let recipe =
        minimalRecipe + """
                context: {dir: ctx}
              dev:
                from: base
                run: ["echo dev"]

            """

    /// A recipe with a context directory whose files are older than the racy window.
    func makeTree() -> Scratch {
        let scratch = Scratch()
        scratch.write("ctx/manifest.yaml", "docs: [docs/]\n")
        scratch.write("ctx/docs/guide.md", "# Guide\n\nRead the notes first, then the rest.\n")
        scratch.write("ctx/docs/notes.md", "hello\n")
        scratch.write("recipe.yaml", Self.recipe)
        let old = Int(Date().timeIntervalSince1970) - 60
        for path in FileManager.default.subpaths(atPath: scratch.path) ?? [] {
            var times = [timespec(tv_sec: old, tv_nsec: 0), timespec(tv_sec: old, tv_nsec: 0)]
            utimensat(AT_FDCWD, scratch.url(path), &times, AT_SYMLINK_NOFOLLOW)
        }
        waitOutRacyWindow()
        return scratch
    }

    /// ctimes cannot be set back: the caches run on a clock past the racy window instead.
    func waitOutRacyWindow() {}

    static let ahead: @Sendable () -> Int64 = { nowNanoseconds() + 2 * FileDigestCache.racyWindowNanoseconds }

    struct Run {
        var plan: BuildPlan?
        var diagnostics: Diagnostics
        var memo: LayerInputsCache
    }

    /// `clock`: past the racy window of every file written so far (``ahead``), or the wall clock.
    func plan(_ scratch: Scratch, clock: @escaping @Sendable () -> Int64 = Self.ahead) -> Run {
        let memo = LayerInputsCache(file: scratch.url("cache/layers"), now: clock)
        let (plan, diagnostics) = Planner.plan(
            recipeAt: scratch.url("recipe.yaml"), cache: FileDigestCache(file: scratch.url("cache/digests"), now: clock), memo: memo)
        return Run(plan: plan, diagnostics: diagnostics, memo: memo)
    }

    /// The same recipe planned with no cache or memo at all: the reference a memo must agree with.
    func planFresh(_ scratch: Scratch) -> BuildPlan? {
        Planner.plan(recipeAt: scratch.url("recipe.yaml"), cache: FileDigestCache(file: nil)).0
    }

    func hashes(_ plan: BuildPlan?) -> [String] { plan?.layers.map(\.contentHash.hex) ?? [] }

    /// Writes `text` over the file in place (same inode), then puts its mtime back.
    func overwriteKeepingMtime(_ path: String, _ text: String) throws {
        var before = stat()
        lstat(path, &before)
        let handle = try #require(FileHandle(forWritingAtPath: path))
        handle.write(Data(text.utf8))
        try handle.close()
        var times = [before.st_mtim, before.st_mtim]
        utimensat(AT_FDCWD, path, &times, 0)
        var after = stat()
        lstat(path, &after)
        #expect(
            after.st_size == before.st_size && after.st_mtim.tv_sec == before.st_mtim.tv_sec
                && after.st_mtim.tv_nsec == before.st_mtim.tv_nsec && after.st_ino == before.st_ino)
    }

    @Test("a second plan with nothing changed takes every layer from the memo and plans the same")
    func reuse() throws {
        let scratch = makeTree()
        let first = plan(scratch)
        #expect(first.memo.hits == 0 && first.memo.misses == 2)
        let second = plan(scratch)
        #expect(second.memo.hits == 2 && second.memo.misses == 0)

        let reference = try #require(planFresh(scratch))
        let memoized = try #require(second.plan)
        #expect(hashes(memoized) == hashes(reference))
        #expect(hashes(first.plan) == hashes(reference))
        for (a, b) in zip(memoized.layers, reference.layers) {
            #expect(a.canonicalInputs == b.canonicalInputs)
            #expect(a.inputs == b.inputs)
            #expect(a.entries == b.entries)
        }
    }

    @Test("an edit in place that keeps size and mtime is caught by the ctime, and the child follows")
    func editInPlace() throws {
        let scratch = makeTree()
        let before = hashes(plan(scratch).plan)
        try overwriteKeepingMtime(scratch.url("ctx/docs/notes.md"), "jello\n")
        let after = plan(scratch)
        #expect(after.memo.hits == 0)
        #expect(hashes(after.plan) == hashes(planFresh(scratch)))
        #expect(hashes(after.plan)[0] != before[0])
        #expect(hashes(after.plan)[1] != before[1], "the child's memo entry names the old parent hash")
    }

    @Test("a file replaced by another with the same size and mtime is caught by the inode")
    func replaced() throws {
        let scratch = makeTree()
        let before = hashes(plan(scratch).plan)
        let path = scratch.url("ctx/docs/notes.md")
        var old = stat()
        lstat(path, &old)
        let replacement = scratch.write("replacement", "jello\n")
        var times = [old.st_mtim, old.st_mtim]
        utimensat(AT_FDCWD, replacement, &times, 0)
        rename(replacement, path)
        let after = plan(scratch)
        #expect(after.memo.hits == 0)
        #expect(hashes(after.plan) == hashes(planFresh(scratch)))
        #expect(hashes(after.plan)[0] != before[0])
    }

    @Test("a secret written in place with size and mtime kept is still refused")
    func secretAfterMemo() throws {
        let scratch = makeTree()
        #expect(plan(scratch).plan != nil)
        let key = "AKIA" + "IOSFODNN7" + "EXAMPLX"
        let path = scratch.url("ctx/docs/guide.md")
        var old = stat()
        lstat(path, &old)
        // Same length as the original text, so only the ctime says it changed.
        let line = "aws_access_key_id = \(key)"
        let text = line + String(repeating: " ", count: Int(old.st_size) - line.utf8.count - 1) + "\n"
        try overwriteKeepingMtime(path, text)
        let after = plan(scratch)
        #expect(after.plan == nil)
        #expect(after.diagnostics.items.contains { $0.message.contains("secret refused") })
    }

    @Test("a file written within the racy window keeps its layer out of the memo")
    func racy() throws {
        let scratch = makeTree()
        // A clock past the window of the files made so far, and not of the one written next.
        let cutoff = nowNanoseconds()
        let clock: @Sendable () -> Int64 = { cutoff + FileDigestCache.racyWindowNanoseconds }
        scratch.write("ctx/docs/new.md", "just written\n")
        _ = plan(scratch, clock: clock)
        let second = plan(scratch, clock: clock)
        // The base layer holds the new file; dev has no files and is remembered.
        #expect(second.memo.misses == 1 && second.memo.hits == 1)
        #expect(hashes(second.plan) == hashes(planFresh(scratch)))
    }

    @Test("a damaged memo is not trusted")
    func damaged() throws {
        let scratch = makeTree()
        let reference = hashes(plan(scratch).plan)
        let file = scratch.url("cache/layers")
        var bytes = try #require(FileManager.default.contents(atPath: file))
        // Flip one byte inside the last line's inputs.
        let position = bytes.count - 10
        bytes[position] ^= 0x01
        try bytes.write(to: URL(fileURLWithPath: file))
        let after = plan(scratch)
        #expect(after.memo.hits == 1 && after.memo.misses == 1)
        #expect(hashes(after.plan) == reference)
        // And the next plan has a sound memo again.
        #expect(plan(scratch).memo.hits == 2)
    }

    @Test("a changed arg misses the memo of the layers that use it")
    func changedArg() throws {
        let scratch = makeTree()
        scratch.write("recipe.yaml", "args: {GREETING: hello}\n" + Self.recipe.replacingOccurrences(of: "echo dev", with: "echo ${GREETING}"))
        let first = plan(scratch)
        #expect(first.plan != nil, "\(first.diagnostics.sorted)")
        let memo = LayerInputsCache(file: scratch.url("cache/layers"), now: Self.ahead)
        let (changed, _) = Planner.plan(
            recipeAt: scratch.url("recipe.yaml"), overrides: ["GREETING": "bye"],
            cache: FileDigestCache(file: scratch.url("cache/digests"), now: Self.ahead), memo: memo)
        #expect(memo.hits == 1 && memo.misses == 1)
        #expect(hashes(changed)[0] == hashes(first.plan)[0])
        #expect(hashes(changed)[1] != hashes(first.plan)[1])
    }
}
