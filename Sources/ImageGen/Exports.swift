// The shared value types (identifiers, canonical JSON) are part of imagegen's API.
@_exported import ContainerBasics
