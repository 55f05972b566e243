import ContainerBasics
import ImageGenValues
import BuildContext
/// Accounts that official base images already have, so that `validate` can say, before a
/// build fails at `useradd`, that a recipe's `user:` collides with one (and how to adopt it).
/// Only images whose accounts are documented and stable are listed; an unknown base is not
/// checked (the build, and verify's `user.account`, still are).
enum KnownAccounts {
    struct Account: Equatable {
        var name: String
        var uid: Int
        var gid: Int
        var group: String
    }

    /// The accounts an image has besides the system's, by repository (and tag where it matters).
    static func accounts(of image: ImageReference) -> [Account] {
        let repository = image.repository.path.split(separator: "/").suffix(2).joined(separator: "/")
        let last = image.repository.path.split(separator: "/").last.map(String.init) ?? ""
        let tag = image.tag?.value ?? ""
        switch last {
        case "node": return [Account(name: "node", uid: 1000, gid: 1000, group: "node")]
        case "ubuntu":
            // 24.04 (noble) and later ship an `ubuntu` account.
            let major = Int(tag.split(separator: ".").first ?? "") ?? 0
            if major >= 24 || ["noble", "oracular", "plucky", "questing", "latest", "rolling", "devel"].contains(tag) {
                return [Account(name: "ubuntu", uid: 1000, gid: 1000, group: "ubuntu")]
            }
            return []
        default:
            if repository.hasPrefix("jupyter/") || repository.hasPrefix("quay.io/jupyter") || image.repository.path.contains("jupyter/") {
                return [Account(name: "jovyan", uid: 1000, gid: 100, group: "users")]
            }
            if image.repository.path.contains("devcontainers/") { return [Account(name: "vscode", uid: 1000, gid: 1000, group: "vscode")] }
            return []
        }
    }

    /// Groups every image of a distro family has: gid 100 is `users` on Debian, Ubuntu and Alpine.
    static func systemGroup(gid: Int, distro: Distro) -> String? {
        switch distro {
        case .debian, .alpine: gid == 100 ? "users" : nil
        case .busybox: nil
        }
    }

    /// Why creating `user` on `image` fails, and what to write instead; nil when nothing known collides.
    static func collision(_ user: UserSpec, on image: ImageReference, distro: Distro) -> String? {
        for account in accounts(of: image) {
            if account.uid == user.uid || account.name == user.name {
                let adopt = "user: {name: \(account.name), uid: \(account.uid)\(account.gid == account.uid ? "" : ", gid: \(account.gid)"), create: false}"
                let what = account.uid == user.uid ? "uid \(user.uid) is already '\(account.name)'" : "'\(account.name)' already exists (uid \(account.uid))"
                return "\(what) in \(image) (useradd would fail); adopt the account with \(adopt), or pick another uid and name"
            }
            if account.gid == user.gid, account.group != user.name {
                return
                    "gid \(user.gid) is already the group '\(account.group)' in \(image) (groupadd would fail); give gid: another value, or adopt '\(account.name)' with create: false"
            }
        }
        if let group = systemGroup(gid: user.gid, distro: distro) {
            return
                "gid \(user.gid) is already the group '\(group)' in \(image) (groupadd would fail); give gid: another value (the account can still join '\(group)' in a run step)"
        }
        return nil
    }
}
