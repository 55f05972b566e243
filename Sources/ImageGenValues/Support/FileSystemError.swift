import Foundation
#if canImport(Glibc)
import Glibc
#endif
import ContainerBasics

/// A file operation that failed, with the path and the system's reason.
public struct FileSystemError: Error, Sendable, CustomStringConvertible {
    public var path: String
    public var operation: String
    public var reason: String

    public init(path: String, operation: String, reason: String) {
        self.path = path
        self.operation = operation
        self.reason = reason
    }

    /// From the current `errno`.
    package static func errno(_ operation: String, _ path: String) -> FileSystemError {
        FileSystemError(path: path, operation: operation, reason: String(cString: strerror(SystemCalls.errorNumber)))
    }

    public var description: String { "cannot \(operation) \(path): \(reason)" }

    /// A short reason for Foundation's file errors, without NSError's noise.
    package static func describe(_ error: any Error) -> String {
        if let error = error as? FileSystemError { return error.description }
        let ns = error as NSError
        if let underlying = ns.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain {
            return String(cString: strerror(Int32(underlying.code)))
        }
        if ns.domain == NSCocoaErrorDomain, ns.code == NSFileReadNoSuchFileError || ns.code == NSFileNoSuchFileError {
            return "no such file"
        }
        return ns.localizedDescription
    }
}

extension FileSystemError: ClassifiedError {
    public var exitStatus: ExitStatus { .failed }
}
