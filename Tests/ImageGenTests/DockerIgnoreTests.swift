import Testing
@testable import ImageGen
@testable import ImageGenValues
@testable import BuildContext
@testable import Recipes
@testable import Planning
@testable import LayerInspection
@testable import RegistryCache

/// `.dockerignore` semantics, checked against what moby's patternmatcher decides.
@Suite(".dockerignore")
struct DockerIgnoreTests {
    func excluded(_ patterns: String, _ paths: [String]) throws -> [String] {
        let ignore = try DockerIgnore(contents: patterns)
        return paths.filter { ignore.excludes($0) }
    }

    @Test("plain names match the path and everything under a matching directory")
    func plainAndParents() throws {
        let paths = ["docs", "docs/a.md", "docs/sub/b.md", "docsx", "src/docs/c.md"]
        #expect(try excluded("docs", paths) == ["docs", "docs/a.md", "docs/sub/b.md"])
        #expect(try excluded("/docs/", paths) == ["docs", "docs/a.md", "docs/sub/b.md"])
        #expect(try excluded("./docs/sub/../", paths) == ["docs", "docs/a.md", "docs/sub/b.md"])
    }

    @Test("* and ? stay within one path component")
    func singleStar() throws {
        let paths = ["a.log", "dir/a.log", "x.txt", "ab.txt", "abc.txt"]
        #expect(try excluded("*.log", paths) == ["a.log"])
        #expect(try excluded("*/*.log", paths) == ["dir/a.log"])
        #expect(try excluded("a?.txt", paths) == ["ab.txt"])
    }

    @Test("** spans directories")
    func doubleStar() throws {
        let paths = ["a.log", "x/a.log", "x/y/a.log", "x/y/z.txt", "keep/a.txt"]
        #expect(try excluded("**/*.log", paths) == ["a.log", "x/a.log", "x/y/a.log"])
        #expect(try excluded("x/**", paths) == ["x/a.log", "x/y/a.log", "x/y/z.txt"])
        #expect(try excluded("**", paths) == paths)
        #expect(try excluded("x/**/z.txt", paths) == ["x/y/z.txt"])
        #expect(try excluded("**.log", ["a.log", "dir/b.log", "c.txt"]) == ["a.log", "dir/b.log"])
    }

    @Test("! re-includes, and the last matching line wins")
    func exceptions() throws {
        let paths = ["a.md", "b.md", "README.md", "docs/README.md", "docs/x.md"]
        #expect(try excluded("*.md\n!README.md", paths) == ["a.md", "b.md"])
        #expect(try excluded("*.md\n!README.md\nREADME.md", paths) == ["a.md", "b.md", "README.md"])
        #expect(try excluded("docs\n!docs/README.md", paths) == ["docs/x.md"])
        #expect(try excluded("**/*.md\n!**/README.md", paths) == ["a.md", "b.md", "docs/x.md"])
    }

    @Test("character classes and escapes")
    func classes() throws {
        let paths = ["a1", "a2", "ab", "a*", "a?"]
        #expect(try excluded("a[0-9]", paths) == ["a1", "a2"])
        #expect(try excluded("a[^0-9]", paths) == ["ab", "a*", "a?"])
        #expect(try excluded("a\\*", paths) == ["a*"])
    }

    @Test("comments, blank lines and surrounding spaces are ignored")
    func comments() throws {
        #expect(try excluded("# a comment\n\n   tmp   \n", ["tmp", "# a comment"]) == ["tmp"])
    }

    @Test("bad patterns are refused with their line")
    func bad() {
        #expect(throws: DockerIgnore.ParseError.self) { try DockerIgnore(contents: "ok\n!\n") }
        #expect(throws: DockerIgnore.ParseError.self) { try DockerIgnore(contents: "a[b\n") }
    }

    @Test("the context walk honours exceptions inside excluded directories")
    func walk() throws {
        let scratch = Scratch()
        scratch.write("ctx/.dockerignore", "logs\n!logs/keep.log\n*.tmp\n")
        scratch.write("ctx/logs/keep.log", "k")
        scratch.write("ctx/logs/drop.log", "d")
        scratch.write("ctx/a.tmp", "t")
        scratch.write("ctx/a.md", "m")
        let walker = ContextWalker(root: scratch.url("ctx"), displayRoot: "ctx", archivePrefix: "context")
        let (entries, problems) = walker.walk()
        #expect(problems.isEmpty)
        #expect(entries.normalizedForArchive().map(\.path) == ["context", "context/a.md", "context/logs", "context/logs/keep.log"])
    }
}
