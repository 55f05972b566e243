import Foundation
import ContainerBasics

/// Where imagegen keeps what it may forget: `$IMAGEGEN_CACHE_DIR`, else `$XDG_CACHE_HOME/imagegen`,
/// else `~/.cache/imagegen`. Deleting it only makes the next run slower.
public enum CacheDirectory {
    /// imagegen's cache directory: `IMAGEGEN_CACHE_DIR`, `$XDG_CACHE_HOME/imagegen` or
    /// `~/.cache/imagegen` (nil when none can be named).
    public static func path(environment: [String: String] = ProcessInfo.processInfo.environment) -> String? {
        if let dir = environment["IMAGEGEN_CACHE_DIR"], !dir.isEmpty { return dir }
        if let xdg = environment["XDG_CACHE_HOME"], !xdg.isEmpty { return xdg + "/imagegen" }
        if let home = environment["HOME"], !home.isEmpty { return home + "/.cache/imagegen" }
        return nil
    }
}
