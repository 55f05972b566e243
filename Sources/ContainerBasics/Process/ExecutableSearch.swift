import Foundation

/// Finds a program the way a shell does: a name with a `/` is taken as a path, any other is
/// looked up in `PATH` (the ssh client, docker credential helpers).
public enum ExecutableSearch {
    public static func find(_ program: String, path: String?) -> String? {
        if program.contains("/") { return FileManager.default.isExecutableFile(atPath: program) ? program : nil }
        for directory in (path ?? "/usr/local/bin:/usr/bin:/bin").split(separator: ":") {
            let candidate = "\(directory)/\(program)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }
}
