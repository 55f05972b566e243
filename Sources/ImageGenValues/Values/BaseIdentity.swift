import ContainerBasics

/// A base image's identity (its registry digest, or `rootfs:` and its root file system's
/// digest) as messages show it.
public enum BaseIdentity {
    public static func short(_ identity: String) -> String {
        if identity.hasPrefix("rootfs:"), let digest = try? Digest(parsing: String(identity.dropFirst(7))) { return "rootfs " + digest.short }
        return (try? Digest(parsing: identity))?.short ?? String(identity.prefix(shortHashLength))
    }
}
