// The shared value types (identifiers, canonical JSON) are part of imagegen's API.
@_exported import ContainerBasics
import ContainerBasics
import ImageGenValues
import BuildContext
import Recipes
import Planning
import LayerInspection
import RegistryCache
import ContainerRegistry
import DockerEngine
