import CArchive
import ContainerBasics
import ImageGenValues

/// An error from libarchive or from reading a context file while archiving it.
public struct ArchiveError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public var description: String { message }

    package init(message: String) { self.message = message }

    static func from(_ archive: OpaquePointer, _ operation: String) -> ArchiveError {
        let detail = archive_error_string(archive).map { String(cString: $0) } ?? "unknown error"
        return ArchiveError(message: "\(operation): \(detail)")
    }
}

extension ArchiveError: ClassifiedError {
    public var exitStatus: ExitStatus { .failed }
}
