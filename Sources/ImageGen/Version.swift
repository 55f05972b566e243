import ContainerBasics
import ImageGenValues
import BuildContext
import Recipes
import Planning
import LayerInspection
import RegistryCache
import ContainerRegistry
import DockerEngine
/// imagegen's own version.
public enum ImageGenVersion {
    public static let current = "0.1.0"
}
