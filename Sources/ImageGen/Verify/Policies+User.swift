import ContainerBasics
import ImageGenValues
import BuildContext
import Recipes
import Planning
import LayerInspection
import RegistryCache
import ContainerRegistry
import DockerEngine
/// The user an image runs as: not root, the account the recipe declares (name, uid, gid, home)
/// as the image's own `/etc/passwd` and `/etc/group` say, no second root, and a workdir it
/// may write. A later `run:` can rewrite the account files, so the checks read them from the
/// image, never from the recipe.
extension Policies {
    static func user(_ image: ImageUnderTest) -> [CheckResult] {
        let configured = image.inspect.config?.user ?? ""
        let parts = configured.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        let userPart = parts.first ?? ""
        let groupPart = parts.count == 2 ? parts[1] : nil
        let accounts = Accounts(passwd: image.view.keptFiles["etc/passwd"], group: image.view.keptFiles["etc/group"])
        let expected = image.plan.layer.user
        let declared = expected.map { "\($0.location): the recipe's user \($0.name) (uid \($0.uid), gid \($0.gid), home \($0.home))" }
        let threshold: JSONValue = expected.map { .int(Int64($0.uid)) } ?? .null
        var checks: [CheckResult] = []

        // Who USER names: a uid, or a name /etc/passwd gives a uid.
        var entry: Accounts.User?
        var uid: Int?
        var failure: String?
        if userPart.isEmpty || userPart == "root" || userPart == "0" {
            failure = configured.isEmpty ? "the image runs as root (no USER)" : "the image runs as root (USER \(configured))"
        } else if let number = Int(userPart) {
            uid = number
            entry = accounts.user(uid: number)
        } else if let found = accounts.user(named: userPart) {
            entry = found
            uid = found.uid
            if found.uid == 0 { failure = "user '\(userPart)' has uid 0 in /etc/passwd:\(found.line): that is root" }
        } else {
            failure = "user '\(userPart)' is not in the image's /etc/passwd"
        }
        if failure == nil, let expected, let uid, uid != expected.uid {
            failure = "the image runs as uid \(uid), but the recipe asks for \(expected.name) with uid \(expected.uid)"
        }
        // Root on purpose (a devcontainer base, ROS): passed, and the report says why, never silently.
        if let reason = image.policy.allowRoot, uid == nil, failure != nil {
            checks.append(
                .passed(
                    image.name, "user.non-root", "user", "runs as root, allowed: \(reason.value)", measured: .string(configured),
                    details: ["\(reason.location): policy.allow-root"]))
            checks.append(secondRoot(image, accounts: accounts))
            checks.append(.passed(image.name, "user.workdir", "user", "runs as root (allowed): every directory is writable"))
            return checks
        }
        checks.append(
            failure.map {
                .failed(image.name, "user.non-root", "user", $0, measured: .string(configured), threshold: threshold, details: declared.map { [$0] } ?? [])
            } ?? .passed(image.name, "user.non-root", "user", "runs as \(configured) (uid \(uid ?? -1))", measured: .string(configured), threshold: threshold))

        let gid = groupPart.flatMap { Int($0) ?? accounts.group(named: $0)?.gid } ?? entry?.gid
        if failure == nil, let uid {
            checks.append(account(image, configured: configured, uid: uid, gid: gid, groupPart: groupPart, entry: entry, accounts: accounts, declared: declared))
            if let entry { checks.append(home(image, entry: entry, declared: declared)) }
        }
        checks.append(secondRoot(image, accounts: accounts))
        checks.append(workdir(image, uid: failure == nil ? uid : nil, gid: gid))
        return checks
    }

    /// USER resolves to an account, and that account is the recipe's: name, uid, gid, and a
    /// group that exists.
    private static func account(
        _ image: ImageUnderTest, configured: String, uid: Int, gid: Int?, groupPart: String?, entry: Accounts.User?, accounts: Accounts, declared: String?
    ) -> CheckResult {
        var problems: [String] = []
        var details: [String] = []
        if let entry {
            details.append("/etc/passwd:\(entry.line): \(entry.text)")
        } else {
            problems.append(accounts.hasPasswd ? "uid \(uid) has no entry in /etc/passwd" : "the image has no /etc/passwd")
        }
        if let expected = image.plan.layer.user {
            if let entry, entry.name != expected.name { problems.append("uid \(uid) is '\(entry.name)' in /etc/passwd, not '\(expected.name)'") }
            if entry == nil, let byName = accounts.user(named: expected.name) {
                problems.append("'\(expected.name)' has uid \(byName.uid) in /etc/passwd, not \(expected.uid)")
                details.append("/etc/passwd:\(byName.line): \(byName.text)")
            }
            if let entry, entry.gid != expected.gid { problems.append("'\(entry.name)' has gid \(entry.gid) in /etc/passwd, not \(expected.gid)") }
            if let gid, gid != expected.gid, groupPart != nil { problems.append("USER \(configured) runs with gid \(gid), not \(expected.gid)") }
        }
        if let gid {
            if let group = accounts.group(gid: gid) {
                details.append("/etc/group:\(group.line): \(group.name) (gid \(gid))")
            } else {
                problems.append(accounts.hasGroup ? "gid \(gid) has no entry in /etc/group" : "the image has no /etc/group")
            }
        } else if let groupPart {
            problems.append("group '\(groupPart)' is not in the image's /etc/group")
        }
        if !problems.isEmpty, let declared { details.append(declared) }
        let name = entry.map { "\($0.name) (uid \(uid), gid \(gid.map(String.init) ?? "?"))" } ?? "uid \(uid)"
        return problems.isEmpty
            ? .passed(image.name, "user.account", "user", "USER \(configured) is \(name) in /etc/passwd and /etc/group", measured: .string(configured), details: details)
            : .failed(image.name, "user.account", "user", problems.joined(separator: "; "), measured: .string(configured), details: details)
    }

    /// The account's home exists, is a directory, belongs to it, and is the one the recipe says.
    private static func home(_ image: ImageUnderTest, entry: Accounts.User, declared: String?) -> CheckResult {
        var problems: [String] = []
        if let expected = image.plan.layer.user, expected.name == entry.name, expected.home != entry.home {
            problems.append("'\(entry.name)' has home \(entry.home) in /etc/passwd:\(entry.line), not \(expected.home)")
        }
        let path = ImageExport.normalize(entry.home)
        if let file = image.view.files[path] {
            if file.kind != .directory {
                problems.append("home \(entry.home) is not a directory")
            } else if file.uid != Int64(entry.uid) {
                problems.append("home \(entry.home) belongs to \(file.uid):\(file.gid), not to \(entry.name) (uid \(entry.uid))")
            }
        } else {
            problems.append("home \(entry.home) of '\(entry.name)' (/etc/passwd:\(entry.line)) does not exist in the image")
        }
        var details = ["/etc/passwd:\(entry.line): \(entry.text)"]
        if !problems.isEmpty, let declared { details.append(declared) }
        return problems.isEmpty
            ? .passed(image.name, "user.home", "user", "\(entry.home) exists and belongs to \(entry.name)", measured: .string(entry.home))
            : .failed(image.name, "user.home", "user", problems.joined(separator: "; "), measured: .string(entry.home), details: details)
    }

    /// Only `root` may have uid 0: another name with it is root under a disguise.
    private static func secondRoot(_ image: ImageUnderTest, accounts: Accounts) -> CheckResult {
        let others = accounts.otherRoots
        return others.isEmpty
            ? .passed(image.name, "user.uid0", "user", "no account but root has uid 0")
            : .failed(
                image.name, "user.uid0", "user",
                "\(others.map { "'\($0.name)'" }.joined(separator: ", ")) \(others.count == 1 ? "has" : "have") uid 0: root by another name",
                measured: .int(Int64(others.count)), details: others.map { "/etc/passwd:\($0.line): \($0.text)" })
    }

    /// The working directory exists and the user may write to it.
    private static func workdir(_ image: ImageUnderTest, uid: Int?, gid: Int?) -> CheckResult {
        let workdir = image.inspect.config?.workingDir ?? ""
        if workdir.isEmpty || workdir == "/" {
            return .passed(image.name, "user.workdir", "user", "no working directory set")
        }
        guard let uid else {
            return .failed(image.name, "user.workdir", "user", "cannot tell whether \(workdir) is writable: the user is not a valid non-root user")
        }
        let path = ImageExport.normalize(workdir)
        guard let entry = image.view.files[path], entry.kind == .directory else {
            return .failed(image.name, "user.workdir", "user", "working directory \(workdir) does not exist in the image", measured: .string(workdir))
        }
        let writable =
            (entry.uid == Int64(uid) && entry.mode & 0o200 != 0)
            || (gid.map { entry.gid == Int64($0) } == true && entry.mode & 0o020 != 0) || entry.mode & 0o002 != 0
        let text = "\(workdir) is owned by \(entry.uid):\(entry.gid), mode \(String(entry.mode, radix: 8).leftPadded(to: 4))"
        return writable
            ? .passed(image.name, "user.workdir", "user", "\(text): writable by uid \(uid)", measured: .string(workdir))
            : .failed(image.name, "user.workdir", "user", "\(text): not writable by uid \(uid)", measured: .string(workdir))
    }
}
