import ContainerBasics
/// Release tags from templates (`tags:`): `{version}`, `{major}`, `{minor}`, `{patch}` of the
/// release's version, `{variant}` of the layer's variant, and literal text.
///
/// A template with `{version}` makes an exact tag: it names this release forever and is never
/// moved. Every other tag floats (`1.4`, `latest`, `trixie`): it moves forward only, and a
/// pre-release moves none. Without templates a layer gets `{version}`, `{major}.{minor}`,
/// `{major}` and `latest`; in a recipe with variants, each with `-{variant}` and the bare
/// `{variant}` in place of `latest` (`2.1.11-trixie`, `2.1-trixie`, `2-trixie`, `trixie`).
public enum TagTemplate {
    public static let defaults = ["{version}", "{major}.{minor}", "{major}", "latest"]
    public static let variantDefaults = ["{version}-{variant}", "{major}.{minor}-{variant}", "{major}-{variant}", "{variant}"]

    /// `template` with its placeholders filled (`+` of build metadata written `_`).
    public static func expand(_ template: String, version: SemVer, variant: String?) -> String {
        template
            .replacingOccurrences(of: "{version}", with: version.description.replacingOccurrences(of: "+", with: "_"))
            .replacingOccurrences(of: "{major}", with: String(version.major))
            .replacingOccurrences(of: "{minor}", with: String(version.minor))
            .replacingOccurrences(of: "{patch}", with: String(version.patch))
            .replacingOccurrences(of: "{variant}", with: variant ?? "")
    }

    /// The tags a layer's release gets, exact first.
    public static func tags(for version: SemVer, templates: [String]?, variant: String?) -> (exact: [Tag], floating: [Tag]) {
        let templates = templates ?? (variant == nil ? defaults : variantDefaults)
        var exact: [Tag] = [], floating: [Tag] = []
        for template in templates {
            let isExact = template.contains("{version}")
            // A pre-release moves nothing anyone follows.
            if !isExact, version.isPrerelease { continue }
            // Below 1.0.0 a `{major}` tag alone would promise one compatible line: 0.x gives none.
            if !isExact, version.major == 0, template.contains("{major}"), !template.contains("{minor}") { continue }
            guard let tag = try? Tag(parsing: expand(template, version: version, variant: variant)) else { continue }
            if isExact { if !exact.contains(tag) { exact.append(tag) } } else if !floating.contains(tag) { floating.append(tag) }
        }
        return (exact, floating)
    }
}
