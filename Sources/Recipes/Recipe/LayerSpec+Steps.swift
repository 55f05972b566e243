import ContainerBasics
import ImageGenValues
import BuildContext
/// What a layer's keys and steps say together: every copy, every package, every account.
extension LayerSpec {
    /// `copy:` entries and copy steps.
    public var allCopies: [CopySpec] {
        copy + (steps ?? []).compactMap { if case .copy(let copy) = $0.kind { copy } else { nil } }
    }

    /// The packages of `packages` steps.
    var stepPackages: [Located<String>] {
        (steps ?? []).flatMap { step -> [Located<String>] in if case .packages(let list) = step.kind { list } else { [] } }
    }

    /// Accounts the layer creates or adopts: `user:`, and `user` steps with an account.
    var declaredAccounts: [UserSpec] {
        (user.map { [$0] } ?? []) + (steps ?? []).compactMap { if case .account(let account) = $0.kind { account } else { nil } }
    }

    /// Whether imagegen writes something for the base's distro: packages, language packages, an
    /// account to create.
    var needsDistro: Bool {
        !packages.isEmpty || !pip.isEmpty || !npm.isEmpty || !toolsets.isEmpty || !stepPackages.isEmpty || declaredAccounts.contains { $0.create }
    }
}

extension RecipeResolver {
    /// `USER` through a layer's steps: the account the image ends as (when a step declared it)
    /// and its final `USER`. A step that must run as root (packages, creating an account) while
    /// the steps before it left a non-root user is an error at that step.
    static func followUser(
        through steps: [LayerStep], inherited: (UserSpec?, String?), layer: String, diagnostics: inout Diagnostics
    ) -> (UserSpec?, String?) {
        var (user, runAs) = inherited
        for step in steps {
            switch step.kind {
            case .user(let text):
                runAs = text
                user = Self.isRoot(text) ? nil : user.flatMap { "\($0.uid):\($0.gid)" == text || $0.name == text || String($0.uid) == text ? $0 : nil }
            case .account(let account):
                if account.create, let current = runAs, !isRoot(current) {
                    diagnostics.error(
                        "layer '\(layer)': this step creates an account, which needs root, but the steps before leave USER \(current); add - user: root before it",
                        at: step.location)
                }
                user = account
                runAs = "\(account.uid):\(account.gid)"
            case .packages:
                if let current = runAs, !isRoot(current) {
                    diagnostics.error(
                        "layer '\(layer)': packages install as root, but the steps before leave USER \(current); add - user: root before it (and switch back after)",
                        at: step.location)
                }
            case .copy(let copy) where copy.ownedByUser && user == nil:
                diagnostics.error("copy.owner is 'user', but no account is declared before this step (a user step with {name, uid}, or user: on a layer below)", at: step.location)
            default:
                break
            }
        }
        return (user, runAs.flatMap { isRoot($0) ? nil : $0 })
    }

    /// `root`, `0`, `root:…`, `0:…`.
    static func isRoot(_ user: String) -> Bool {
        let name = user.split(separator: ":", maxSplits: 1).first.map(String.init) ?? user
        return name == "root" || name == "0"
    }

    /// Two layers released under one name and tag would overwrite each other: each layer's
    /// (image, tag) for a sample version must be its own.
    static func checkReleaseNames(_ recipe: Recipe, layers: [ResolvedLayer], diagnostics: inout Diagnostics) {
        let sample = try! SemVer(parsing: "1.2.3")
        var owners: [String: String] = [:]
        for layer in layers where layer.spec.release {
            let image = layer.spec.image?.value ?? "\(recipe.name)-\(layer.name)"
            let templates = (layer.spec.tags ?? recipe.tags)?.map(\.value)
            let (exact, floating) = TagTemplate.tags(for: sample, templates: templates, variant: layer.spec.variant)
            for tag in exact + floating {
                let reference = "\(image):\(tag)"
                if let other = owners[reference] {
                    let at = layer.spec.tags?.first?.location ?? recipe.tags?.first?.location ?? layer.spec.image?.location ?? layer.spec.location
                    diagnostics.error(
                        "layers '\(other)' and '\(layer.name)' would both be released as \(reference) (at version 1.2.3); give them different image: names, or tags: that tell them apart\(layer.spec.variant != nil ? " ({variant}, or ${ARG})" : "")",
                        at: at)
                    break
                }
                owners[reference] = layer.name
            }
        }
    }
}
