import ContainerBasics
import ImageGenValues
import BuildContext
/// A layer's `steps:` as instructions, in their order, each with the comment lines written above
/// it. A step is one instruction, except an account step that creates its account (a `RUN`,
/// then `USER`).
enum StepInstructions {
    static func expand(_ steps: [LayerStep], layer: ResolvedLayer, copyFrom: [String: String]) -> [Instruction] {
        var instructions: [Instruction] = []
        // The account a `copy` with `owner: user` gives files to: the last one declared so far.
        var account = layer.inheritedUser
        for step in steps {
            if !step.comments.isEmpty { instructions.append(.comment(step.comments)) }
            switch step.kind {
            case .run(let text):
                instructions.append(.run(text.split(separator: "\n").joined(separator: " \\\n    ")))
            case .runExec(let arguments):
                instructions.append(.runExec(arguments))
            case .copy(let copy):
                instructions.append(.copy(DockerfileRenderer.copyInstruction(copy, layer: layer, user: account, copyFrom: copyFrom)))
            case .env(let pairs):
                instructions.append(.env(pairs.map { Instruction.Pair($0.key, $0.value) }))
            case .workdir(let path):
                instructions.append(.workdir(path))
            case .user(let user):
                instructions.append(.user(user))
            case .account(let user):
                if user.create { instructions.append(.run(DockerfileRenderer.accountCommands(user, distro: layer.distro).joined(separator: " \\\n    && "))) }
                instructions.append(.user("\(user.uid):\(user.gid)"))
                account = user
            case .packages(let list):
                // As written (a step's order is the author's), each name checked at validate.
                let names = list.compactMap { try? PackageName(parsing: $0.value) }
                instructions.append(.run(DockerfileRenderer.installCommand(names, distro: layer.distro)))
            case .shell(let arguments):
                instructions.append(.shell(arguments))
            case .arg(let name, let value):
                instructions.append(.arg(name: name, value: value))
            case .expose(let ports):
                instructions.append(.expose(ports))
            case .volume(let paths):
                instructions.append(.volume(paths))
            case .stopsignal(let signal):
                instructions.append(.stopsignal(signal))
            case .label(let pairs):
                instructions.append(.label(pairs.map { Instruction.Pair($0.key, $0.value) }, escapeDollar: false))
            case .healthcheck(let spec):
                instructions.append(.healthcheck(DockerfileRenderer.healthcheckInstruction(spec)))
            case .entrypoint(let command):
                instructions.append(.entrypoint(command.instruction))
            case .cmd(let command):
                instructions.append(.cmd(command.instruction))
            }
        }
        return instructions
    }
}

extension CommandSpec {
    var instruction: Instruction.Command {
        switch self {
        case .exec(let arguments): .exec(arguments)
        case .shell(let command): .shell(command)
        }
    }
}
