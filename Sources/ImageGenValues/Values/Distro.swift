import ContainerBasics
/// The family of operating system a base image belongs to: it decides the package manager,
/// how users are created and which shell runs `RUN` lines that need `pipefail`.
public enum Distro: String, Sendable, Hashable, CaseIterable {
    case debian, alpine, busybox

    public enum PackageManager: String, Sendable { case apt, apk, none }

    public var packageManager: PackageManager {
        switch self {
        case .debian: .apt
        case .alpine: .apk
        case .busybox: .none
        }
    }

    /// A shell that understands `-o pipefail`.
    public var pipefailShell: String {
        switch self {
        case .debian: "/bin/bash"
        case .alpine, .busybox: "/bin/ash"
        }
    }

    public var loginShell: String {
        switch self {
        case .debian: "/bin/bash"
        case .alpine, .busybox: "/bin/sh"
        }
    }

    /// The distro an image name implies, when it is one of the well-known families.
    package static func inferred(from reference: ImageReference) -> Distro? {
        let name = reference.path.split(separator: "/").last.map(String.init) ?? reference.path
        switch name {
        case "debian", "ubuntu": return .debian
        case "alpine": return .alpine
        case "busybox": return .busybox
        default: break
        }
        let tag = reference.tag?.value ?? ""
        if tag.contains("alpine") { return .alpine }
        if ["bookworm", "bullseye", "trixie", "buster", "jammy", "noble", "focal"].contains(where: tag.contains) {
            return .debian
        }
        return nil
    }
}

/// A Python or Node.js package list: installed in a builder stage (a venv for pip, a global
/// prefix for npm) whose installed tree alone is copied into the layer.
public enum LanguageEcosystem: String, Sendable, Hashable, CaseIterable {
    case pip, npm
}
