import ContainerBasics
import ImageGenValues
import BuildContext
import Recipes
import Planning
import LayerInspection
import RegistryCache
import ContainerRegistry
import DockerEngine
/// An image's `/etc/passwd` and `/etc/group`, each entry with the line it came from, so a
/// check can point at the line that is wrong.
struct Accounts {
    struct User: Equatable {
        var name: String
        var uid: Int
        var gid: Int
        var home: String
        /// 1-based line in /etc/passwd.
        var line: Int
        var text: String
    }

    struct Group: Equatable {
        var name: String
        var gid: Int
        var line: Int
    }

    var users: [User] = []
    var groups: [Group] = []
    /// Whether the image has the file at all.
    var hasPasswd: Bool
    var hasGroup: Bool

    init(passwd: [UInt8]?, group: [UInt8]?) {
        hasPasswd = passwd != nil
        hasGroup = group != nil
        for (index, line) in Self.lines(passwd) {
            let fields = line.split(separator: ":", omittingEmptySubsequences: false)
            guard fields.count >= 6, let uid = Int(fields[2]), let gid = Int(fields[3]) else { continue }
            users.append(User(name: String(fields[0]), uid: uid, gid: gid, home: String(fields[5]), line: index, text: String(line)))
        }
        for (index, line) in Self.lines(group) {
            let fields = line.split(separator: ":", omittingEmptySubsequences: false)
            guard fields.count >= 3, let gid = Int(fields[2]) else { continue }
            groups.append(Group(name: String(fields[0]), gid: gid, line: index))
        }
    }

    private static func lines(_ bytes: [UInt8]?) -> [(Int, Substring)] {
        guard let bytes else { return [] }
        return String(decoding: bytes, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).enumerated()
            .filter { !$0.element.isEmpty && !$0.element.hasPrefix("#") }
            .map { ($0.offset + 1, $0.element) }
    }

    /// The first entry for a name (as the C library's lookups answer).
    func user(named name: String) -> User? { users.first { $0.name == name } }
    func user(uid: Int) -> User? { users.first { $0.uid == uid } }
    func group(named name: String) -> Group? { groups.first { $0.name == name } }
    func group(gid: Int) -> Group? { groups.first { $0.gid == gid } }

    /// Accounts other than `root` that have uid 0: each is root by another name.
    var otherRoots: [User] { users.filter { $0.uid == 0 && $0.name != "root" } }
}
