import ContainerBasics
/// An OCI platform, `os/architecture[/variant]` as Docker and the image index spell it:
/// `linux/amd64`, `linux/arm64`, `linux/arm/v7`.
public struct Platform: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let os: String
    public let architecture: String
    public let variant: String?

    static let architectures = ["amd64", "arm64", "arm", "386", "ppc64le", "s390x", "riscv64"]
    /// What `uname -m` and other tools say, for a hint towards the OCI name.
    static let aliases = ["x86_64": "amd64", "x86-64": "amd64", "aarch64": "arm64", "armhf": "arm/v7", "armv7": "arm/v7", "i386": "386", "i686": "386"]

    public init(os: String, architecture: String, variant: String? = nil) {
        self.os = os
        self.architecture = architecture
        self.variant = variant
    }

    public init(parsing text: String) throws(ValueError) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard (2...3).contains(parts.count), parts.allSatisfy({ !$0.isEmpty }) else {
            throw .platform("platform '\(text)' must be os/architecture[/variant], e.g. linux/amd64 or linux/arm64")
        }
        guard parts[0] == "linux" else { throw .platform("platform '\(text)': only linux images are built (not \(parts[0]))") }
        guard Self.architectures.contains(parts[1]) else {
            let hint = Self.aliases[parts[1]].map { "; did you mean linux/\($0)?" } ?? " (one of \(Self.architectures.joined(separator: ", ")))"
            throw .platform("platform '\(text)': unknown architecture '\(parts[1])'\(hint)")
        }
        if parts.count == 3 {
            let variants = parts[1] == "arm" ? ["v6", "v7", "v8"] : parts[1] == "arm64" ? ["v8"] : []
            guard variants.contains(parts[2]) else {
                throw .platform(
                    "platform '\(text)': '\(parts[2])' is not a variant of \(parts[1])\(variants.isEmpty ? " (it has none)" : " (\(variants.joined(separator: ", ")))")")
            }
        }
        self.init(os: parts[0], architecture: parts[1], variant: parts.count == 3 ? parts[2] : nil)
    }

    public var description: String { [os, architecture, variant].compactMap { $0 }.joined(separator: "/") }

    /// `amd64`, `arm64`, `arm-v7`: a platform as a tag or file name may hold it.
    public var slug: String { [architecture, variant].compactMap { $0 }.joined(separator: "-") }

    /// The platform this process runs on.
    public static var host: Platform {
        #if arch(arm64)
        Platform(os: "linux", architecture: "arm64")
        #else
        Platform(os: "linux", architecture: "amd64")
        #endif
    }

    /// The name the kernel's binfmt_misc registration of QEMU carries for this architecture
    /// (`qemu-aarch64`), and `uname -m` inside such an image.
    public var machine: String {
        switch architecture {
        case "amd64": "x86_64"
        case "arm64": "aarch64"
        case "arm": "arm"
        case "386": "i386"
        default: architecture
        }
    }

    /// `base`, or `base@linux/arm64`: a layer (or anything) named for one platform, as progress,
    /// reports and keys spell it.
    public static func qualified(_ name: String, _ platform: Platform?) -> String {
        platform.map { "\(name)@\($0)" } ?? name
    }

    public static func < (a: Platform, b: Platform) -> Bool { a.description < b.description }
}
