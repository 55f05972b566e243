import Foundation
import ImageGen
#if canImport(Glibc)
import Glibc
#endif
import ContainerBasics
import ImageGenValues
import BuildContext
import Recipes
import Planning
import LayerInspection
import RegistryCache

/// Writing a tar build context to a file, atomically.
enum ContextOutput {
    /// Devices and pipes are written to directly; there is nothing to rename over.
    static func isSpecialFile(_ path: String) -> Bool {
        var info = stat()
        guard stat(path, &info) == 0 else { return false }
        let kind = info.st_mode & S_IFMT
        return kind == S_IFCHR || kind == S_IFIFO || kind == S_IFSOCK
    }

    static func writeAtomically(_ stream: TarWriter, to path: String) throws {
        try AtomicFile.write(to: path, createDirectories: true) { fd, temporary in
            try stream.write(to: fd, path: temporary)
        }
    }
}
