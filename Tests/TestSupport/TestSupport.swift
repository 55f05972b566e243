import Foundation

/// A temporary directory removed when the value goes away.
public final class Scratch: Sendable {
    public let path: String

    public init(_ label: String = "imagegen-test") {
        var template = Array((NSTemporaryDirectory() + "/\(label).XXXXXX").utf8CString)
        let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        precondition(made != nil, "mkdtemp failed")
        path = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    public func url(_ relative: String) -> String { path + "/" + relative }

    @discardableResult
    public func write(_ relative: String, _ text: String, executable: Bool = false) -> String {
        write(relative, bytes: Array(text.utf8), executable: executable)
    }

    @discardableResult
    public func write(_ relative: String, bytes: [UInt8], executable: Bool = false) -> String {
        let full = url(relative)
        try! FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: full, contents: Data(bytes))
        chmod(full, executable ? 0o755 : 0o644)
        return full
    }

    public func mkdir(_ relative: String) {
        try! FileManager.default.createDirectory(atPath: url(relative), withIntermediateDirectories: true)
    }

    public func symlink(_ relative: String, to target: String) {
        let full = url(relative)
        try! FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try! FileManager.default.createSymbolicLink(atPath: full, withDestinationPath: target)
    }

    public func read(_ relative: String) -> String? {
        FileManager.default.contents(atPath: url(relative)).map { String(decoding: $0, as: UTF8.self) }
    }
}

/// Runs a program and returns its exit status and output.
@discardableResult
public func run(
    _ executable: String, _ arguments: [String], directory: String? = nil, environment: [String: String]? = nil,
    stdin: Data? = nil
) throws -> (status: Int32, stdout: String, stderr: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
    if let environment { process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new } }
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    let input = Pipe()
    process.standardInput = input
    try process.run()
    if let stdin { input.fileHandleForWriting.write(stdin) }
    try input.fileHandleForWriting.close()
    // Read both pipes while the process runs so neither fills up.
    nonisolated(unsafe) var errorData = Data()
    let group = DispatchGroup()
    group.enter()
    DispatchQueue.global().async {
        errorData = err.fileHandleForReading.readDataToEndOfFile()
        group.leave()
    }
    let outputData = out.fileHandleForReading.readDataToEndOfFile()
    group.wait()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: outputData, as: UTF8.self), String(decoding: errorData, as: UTF8.self))
}

/// Finds a program on PATH.
public func which(_ name: String) -> String? {
    for directory in (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":") {
        let candidate = "\(directory)/\(name)"
        if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
    }
    return nil
}

/// The imagegen executable built next to the test bundle.
public var imagegenExecutable: String {
    let testBinary = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    var directory = (testBinary as NSString).deletingLastPathComponent
    while !directory.isEmpty, directory != "/" {
        let candidate = directory + "/imagegen"
        if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        directory = (directory as NSString).deletingLastPathComponent
    }
    return ".build/debug/imagegen"
}

/// A small deterministic random number generator for property tests and unique names.
public struct SplitMix64: RandomNumberGenerator {
    public var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// The repository's root (for recipes and configuration the tests read).
public let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

/// A TCP port on 127.0.0.1 that nothing uses now, as the kernel assigns one to a bind on port 0.
/// (A random pick in the ephemeral range can collide with a connection's own local port.)
public func freeLoopbackPort() -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    precondition(fd >= 0, "socket failed")
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
    }
    precondition(bound, "bind to 127.0.0.1:0 failed")
    return Int(UInt16(bigEndian: address.sin_port))
}
