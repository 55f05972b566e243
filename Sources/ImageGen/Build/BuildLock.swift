import DockerEngine
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import ContainerBasics
import ImageGenValues
import BuildContext
import Recipes
import Planning
import LayerInspection
import RegistryCache
import ContainerRegistry

/// One build of a layer's image (its reference: name and content-hash tag) at a time on an
/// engine, whoever runs it: two CI jobs on one runner, two shells, two hosts sharing an engine.
/// The lock is a container the engine holds under a name made from the reference: the engine
/// creates a name once and refuses it while it exists (409), so the engine itself arbitrates,
/// with no file the two processes would both need to see. The container is never started.
///
/// A holder that died leaves its container behind. On the same machine (same boot) a holder
/// whose process is gone is known to be dead and its lock is taken over; elsewhere the waiter
/// gives up after ``BuildOptions/lockTimeout`` and names the container to remove.
struct BuildLock: Sendable {
    let engine: DockerEngine
    let reference: ImageReference

    static let prefix = "imagegen-lock-"

    /// The container name: short, valid for the engine, the same for every run of the reference.
    var name: String { Self.prefix + String(sha256Hex(Array(reference.description.utf8)).prefix(32)) }

    /// Who holds a lock, as its labels say.
    struct Holder: Sendable, Equatable, CustomStringConvertible {
        var host: String
        var boot: String
        var pid: Int32

        static var current: Holder {
            Holder(host: ProcessInfo.processInfo.hostName, boot: bootID, pid: getpid())
        }

        /// Distinguishes one boot of a machine from the next (pids are reused across boots).
        static let bootID: String = {
            #if os(Linux)
            if let text = try? String(contentsOfFile: "/proc/sys/kernel/random/boot_id", encoding: .utf8) {
                return text.trimmingCharacters(in: .whitespacesAndNewlines)
            }
            #endif
            return ""
        }()

        var labels: [String: String] { [ImageLabels.lockHost: host, ImageLabels.lockBoot: boot, ImageLabels.lockPID: String(pid)] }

        init(host: String, boot: String, pid: Int32) {
            self.host = host
            self.boot = boot
            self.pid = pid
        }

        init?(labels: [String: String]) {
            guard let host = labels[ImageLabels.lockHost], let pid = labels[ImageLabels.lockPID].flatMap(Int32.init) else { return nil }
            self.init(host: host, boot: labels[ImageLabels.lockBoot] ?? "", pid: pid)
        }

        /// A holder on this machine, in this boot, whose process is gone.
        var isDeadHere: Bool {
            let here = Holder.current
            guard host == here.host, !boot.isEmpty, boot == here.boot else { return false }
            return kill(pid, 0) != 0 && errno == ESRCH
        }

        var description: String { "pid \(pid) on \(host)" }
    }

    enum Failure: Error, Sendable, CustomStringConvertible {
        case timedOut(name: String, holder: String, seconds: Int)

        var description: String {
            switch self {
            case .timedOut(let name, let holder, let seconds):
                "another build of this layer (\(holder)) held the engine's build lock for over \(seconds) s; if no build is running, "
                    + "remove the lock with `docker rm \(name)` and build again"
            }
        }
    }

    /// Takes the lock, waiting while another run holds it (`waiting` is told once who that is).
    /// `image` is any image the engine has (the layer's parent): a container needs one.
    func acquire(image: String, timeout: Double, waiting: @Sendable (String) -> Void) async throws -> Held {
        var spec = ContainerSpec(image: image)
        spec.cmd = ["imagegen-build-lock"]
        spec.labels = Holder.current.labels.merging([ImageLabels.lockReference: reference.description]) { _, new in new }
        spec.networkDisabled = true
        let started = Date()
        var told = false
        while true {
            do {
                let id = try await engine.createContainer(spec, name: name)
                return Held(engine: engine, id: id)
            } catch let error as DockerEngineError {
                guard case .http(409, _, _) = error else { throw error }
            }
            // Someone holds it: a dead holder here is taken over, a live one waited for.
            guard let existing = try await engine.inspectContainer(name) else { continue }
            let holder = Holder(labels: existing.labels)
            if holder?.isDeadHere == true {
                try await engine.removeContainer(existing.id)
                continue
            }
            if !told {
                waiting(holder?.description ?? "a run that left no name")
                told = true
            }
            let waited = Date().timeIntervalSince(started)
            if waited > timeout {
                throw Failure.timedOut(name: name, holder: holder?.description ?? "unknown", seconds: Int(timeout))
            }
            try await Task.sleep(nanoseconds: waited < 10 ? 250_000_000 : 1_000_000_000)
        }
    }

    /// A lock taken: release it once the layer's tag is where it belongs.
    struct Held: Sendable {
        let engine: DockerEngine
        let id: String

        /// Removes the lock, even when the run is being cancelled (Ctrl-C): the request runs in a
        /// task of its own, which the run's cancellation does not reach, and is waited for.
        func release() async {
            let engine = self.engine, id = self.id
            await Task.detached { try? await engine.removeContainer(id) }.value
        }
    }
}

extension BuildLock.Failure: ClassifiedError {
    public var exitStatus: ExitStatus { .failed }
}
