import ContainerBasics
import ImageGenValues
/// Where a layer's files sit inside its build context.
public enum ContextLayout {
    /// Copy sources, under their path relative to the recipe: `copy/files/bashrc`.
    public static func copyPath(_ source: String) -> String { "copy/" + DockerIgnore.clean(source) }
    /// The baked context directory.
    public static let contextDirectory = "context"
    /// Configs the manifest installs at their targets (`targets/home/…`, `targets/root/…`).
    public static let targetsDirectory = "targets"
    /// The build CA, which imagegen fills at build time (empty when none is given): only builder
    /// stages copy it, and it is not a hash input.
    public static let buildCA = "imagegen-build/ca.pem"
}
