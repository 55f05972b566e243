import ContainerBasics
import ImageGenValues
import BuildContext
/// One Dockerfile instruction, the form every layer takes between the recipe and its Dockerfile:
/// the simple keys (`packages`, `user`, `copy`, `run`…) expand into a list of these in a fixed,
/// documented order, `steps:` writes the list itself, and `imagegen import` reads Dockerfiles
/// into it. The renderer writes instructions and nothing else, so generation and import are
/// inverses, and a new Dockerfile instruction is one case here.
public enum Instruction: Sendable, Hashable {
    /// `# text` lines above the next instruction.
    case comment([String])
    case from(String, stage: String? = nil)
    case arg(name: String, value: String?)
    /// `ENV K="V"`, one instruction for every pair; unquoted (`K=V`) where `quoted` is false.
    case env([Pair], quoted: Bool = true)
    /// `RUN` in shell form: the text after `RUN `, continuation lines included.
    case run(String)
    /// `RUN ["exe", "arg"]`.
    case runExec([String])
    case copy(Copy)
    case workdir(String)
    case user(String)
    case shell([String])
    /// `LABEL k="v"`. `escapeDollar` writes `$` literally (imagegen's own labels); a recipe's
    /// `label` step leaves it to the builder, as a Dockerfile's author would.
    case label([Pair], escapeDollar: Bool)
    case expose([String])
    case volume([String])
    case stopsignal(String)
    case healthcheck(Healthcheck)
    case entrypoint(Command)
    case cmd(Command)

    public struct Pair: Sendable, Hashable {
        public var key: String
        public var value: String

        public init(_ key: String, _ value: String) {
            self.key = key
            self.value = value
        }
    }

    /// `COPY [--from=X] [--chown=U:G] [--chmod=M] SRC… DEST`.
    public struct Copy: Sendable, Hashable {
        public var sources: [String]
        public var destination: String
        public var from: String?
        public var chown: String?
        /// Octal digits as written (`0755`); needs BuildKit.
        public var chmod: String?

        public init(sources: [String], destination: String, from: String? = nil, chown: String? = nil, chmod: String? = nil) {
            self.sources = sources
            self.destination = destination
            self.from = from
            self.chown = chown
            self.chmod = chmod
        }
    }

    /// Exec form (`["a", "b"]`) or shell form (`a b`).
    public enum Command: Sendable, Hashable {
        case exec([String])
        case shell(String)
    }

    public enum Healthcheck: Sendable, Hashable {
        /// `HEALTHCHECK NONE`: no check, not even the parent's.
        case none
        case check(options: [String], command: Command)
    }

    /// The instruction as it appears in the Dockerfile (continuation lines included).
    public var text: String {
        switch self {
        case .comment(let lines): return lines.map { $0.isEmpty ? "#" : "# " + $0 }.joined(separator: "\n")
        case .from(let image, let stage): return "FROM \(image)" + (stage.map { " AS \($0)" } ?? "")
        case .arg(let name, let value): return "ARG \(name)" + (value.map { "=\($0)" } ?? "")
        case .env(let pairs, let quoted):
            return "ENV " + pairs.map { "\($0.key)=\(quoted ? DockerfileSyntax.quote($0.value, escapeDollar: false) : $0.value)" }.joined(separator: " \\\n    ")
        case .run(let text): return "RUN " + text
        case .runExec(let arguments): return "RUN [\(DockerfileSyntax.jsonList(arguments))]"
        case .copy(let copy):
            var parts = ["COPY"]
            if let from = copy.from { parts.append("--from=\(from)") }
            if let chown = copy.chown { parts.append("--chown=\(chown)") }
            if let chmod = copy.chmod { parts.append("--chmod=\(chmod)") }
            return (parts + copy.sources + [copy.destination]).joined(separator: " ")
        case .workdir(let path): return "WORKDIR \(path)"
        case .user(let user): return "USER \(user)"
        case .shell(let arguments): return "SHELL [\(DockerfileSyntax.jsonList(arguments))]"
        case .label(let pairs, let escapeDollar):
            return "LABEL " + pairs.map { "\($0.key)=\(DockerfileSyntax.quote($0.value, escapeDollar: escapeDollar))" }.joined(separator: " \\\n      ")
        case .expose(let ports): return "EXPOSE " + ports.joined(separator: " ")
        case .volume(let paths): return "VOLUME [\(DockerfileSyntax.jsonList(paths))]"
        case .stopsignal(let signal): return "STOPSIGNAL \(signal)"
        case .healthcheck(.none): return "HEALTHCHECK NONE"
        case .healthcheck(.check(let options, let command)):
            return "HEALTHCHECK " + options.map { $0 + " " }.joined() + "CMD " + command.text
        case .entrypoint(let command): return "ENTRYPOINT " + command.text
        case .cmd(let command): return "CMD " + command.text
        }
    }

    /// Needs BuildKit to build: `COPY --chmod` (the classic builder refuses it).
    public var needsBuildKit: Bool {
        if case .copy(let copy) = self { return copy.chmod != nil }
        return false
    }

    /// Instructions as a Dockerfile's lines.
    public static func render(_ instructions: [Instruction]) -> String {
        instructions.map(\.text).joined(separator: "\n") + "\n"
    }
}

extension Instruction.Command {
    public var text: String {
        switch self {
        case .exec(let arguments): "[\(DockerfileSyntax.jsonList(arguments))]"
        case .shell(let command): command
        }
    }
}
