/// How a command ends on a failure: imagegen's exit codes.
public enum ExitStatus: Int32, Sendable, CaseIterable {
    /// A build, a policy or a check failed.
    case failed = 1
    /// The recipe or the arguments are wrong.
    case badInput = 2
    /// The Docker engine could not be reached or refused.
    case engine = 3
    /// Ctrl-C.
    case interrupted = 130
}

/// An error of imagegen's libraries: it says which exit code a command ends with when it ends
/// on it, and what caused it when it wraps another error. The command line asks errors this,
/// and knows none of them by name.
public protocol ClassifiedError: Error, Sendable, CustomStringConvertible {
    var exitStatus: ExitStatus { get }
    /// The error this one was made from, kept for logs and for callers that handle it.
    var cause: (any Error)? { get }
}

extension ClassifiedError {
    public var cause: (any Error)? { nil }

    /// This error and every cause under it, outermost first.
    public var causes: [any Error] {
        var chain: [any Error] = [self]
        while let next = (chain.last as? any ClassifiedError)?.cause { chain.append(next) }
        return chain
    }
}

extension ExitStatus {
    /// The exit code for any error: its own when it is classified, 130 for a cancellation, else 1.
    public static func of(_ error: any Error) -> ExitStatus {
        if let classified = error as? any ClassifiedError { return classified.exitStatus }
        if error is CancellationError { return .interrupted }
        return .failed
    }
}
