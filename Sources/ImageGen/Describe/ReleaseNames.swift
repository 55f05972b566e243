import ContainerBasics
import ImageGenValues
import Planning

/// Where a layer's release lives: its repository under `--registry`, and its tags for a version
/// (its `tags:`, the recipe's, or the defaults), exact first. Release writes them; diff reads them.
extension BuildPlan {
    /// The repository of `layer`'s releases, prefixed with `registry` (`HOST[:PORT][/NAMESPACE]`, or "").
    public func releaseRepository(of layer: LayerPlan, registry prefix: String) throws -> Repository {
        try layer.imageName.prefixed(with: prefix)
    }

    /// `layer`'s tags for `version`, exact first.
    public func releaseTags(of layer: LayerPlan, version: SemVer) -> (exact: [Tag], floating: [Tag]) {
        let templates = (layer.layer.spec.tags ?? recipe.recipe.tags)?.map(\.value)
        return TagTemplate.tags(for: version, templates: templates, variant: layer.layer.spec.variant)
    }
}
