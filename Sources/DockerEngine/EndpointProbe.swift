import ContainerBasics
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A plain connect to the endpoint before the first request. AsyncHTTPClient retries a refused
/// connection until its connect timeout; a user whose engine is down should hear it at once, and
/// with the reason (no socket, refused, permission denied) that the errno gives.
enum EndpointProbe {
    static func check(_ endpoint: EngineEndpoint, timeoutMilliseconds: Int32 = 5000) throws(DockerEngineError) {
        switch endpoint.address {
        case .unixSocket(let path):
            var address = sockaddr_un()
            address.sun_family = sa_family_t(AF_UNIX)
            let bytes = Array(path.utf8)
            guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
                throw .configuration("socket path \(path) is too long")
            }
            withUnsafeMutableBytes(of: &address.sun_path) { raw in
                for (index, byte) in bytes.enumerated() { raw[index] = byte }
            }
            let fd = socket(AF_UNIX, SystemCalls.streamSocketType, 0)
            guard fd >= 0 else { return }
            defer { close(fd) }
            let result = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
            }
            if result != 0 { throw failure(errno, endpoint) }
        case .ssh:
            // The tunnel's socket is local and always answers; whether ssh gets through is seen
            // on the first request, with ssh's own message.
            return
        case .tcp(let host, let port):
            var hints = addrinfo()
            hints.ai_socktype = SystemCalls.streamSocketType
            var list: UnsafeMutablePointer<addrinfo>?
            guard getaddrinfo(host, String(port), &hints, &list) == 0, let first = list else {
                throw .notRunning(endpoint: endpoint.description, reason: "cannot resolve host \(host)")
            }
            defer { freeaddrinfo(list) }
            var lastError: Int32 = ECONNREFUSED
            var entry: UnsafeMutablePointer<addrinfo>? = first
            while let info = entry {
                entry = info.pointee.ai_next
                let fd = socket(info.pointee.ai_family, info.pointee.ai_socktype | Int32(SOCK_NONBLOCK.rawValue), info.pointee.ai_protocol)
                guard fd >= 0 else { continue }
                defer { close(fd) }
                if connect(fd, info.pointee.ai_addr, info.pointee.ai_addrlen) == 0 { return }
                guard errno == EINPROGRESS else { lastError = errno; continue }
                var poller = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
                guard poll(&poller, 1, timeoutMilliseconds) == 1 else { lastError = ETIMEDOUT; continue }
                var socketError: Int32 = 0
                var length = socklen_t(MemoryLayout<Int32>.size)
                getsockopt(fd, SOL_SOCKET, SO_ERROR, &socketError, &length)
                if socketError == 0 { return }
                lastError = socketError
            }
            throw failure(lastError, endpoint)
        }
    }

    private static func failure(_ code: Int32, _ endpoint: EngineEndpoint) -> DockerEngineError {
        switch code {
        case EACCES, EPERM: return .permissionDenied(endpoint: endpoint.description)
        case ENOENT: return .notRunning(endpoint: endpoint.description, reason: "no such socket")
        case ECONNREFUSED: return .notRunning(endpoint: endpoint.description, reason: "connection refused")
        case ETIMEDOUT: return .notRunning(endpoint: endpoint.description, reason: "connection timed out")
        default: return .notRunning(endpoint: endpoint.description, reason: String(cString: strerror(code)))
        }
    }
}
