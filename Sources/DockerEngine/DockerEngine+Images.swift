import ContainerBasics
import Foundation

/// Images: inspect, history, list, tag, remove, export, import, pull, push.
extension DockerEngine {
    // MARK: - Images

    /// The image's details, or nil when the engine has no such image.
    public func inspectImage(_ name: String) async throws -> ImageInspect? {
        do {
            return try await decode(ImageInspect.self, EngineRequest("GET", "/images/\(URLEncoding.pathSegment(name))/json"), as: "inspect")
        } catch let error as DockerEngineError where error.isNotFound {
            return nil
        }
    }

    public func history(_ name: String) async throws -> [ImageHistoryItem] {
        try await decode([ImageHistoryItem].self, EngineRequest("GET", "/images/\(URLEncoding.pathSegment(name))/history"), as: "history")
    }

    /// Images carrying every one of `labels` (`key=value` or `key`).
    public func listImages(labels: [String]) async throws -> [ImageSummary] {
        let filters = Self.json(["label": labels])
        return try await decode([ImageSummary].self, EngineRequest("GET", "/images/json", query: [("filters", filters)]), as: "list")
    }

    public func tag(_ source: String, repository: String, tag: String) async throws {
        try await discard(EngineRequest("POST", "/images/\(URLEncoding.pathSegment(source))/tag", query: [("repo", repository), ("tag", tag)]), as: "tag")
    }

    /// Removes an image or a tag of it (`noPrune` keeps untagged parents).
    public func removeImage(_ name: String, force: Bool = false, noPrune: Bool = false) async throws {
        try await discard(EngineRequest("DELETE", "/images/\(URLEncoding.pathSegment(name))",
                                        query: [("force", force ? "1" : "0"), ("noprune", noPrune ? "1" : "0")]), as: "remove")
    }

    /// The image as a `docker save` tar, streamed.
    public func exportImage(_ name: String) async throws -> ChunkSequence {
        try await call(EngineRequest("GET", "/images/\(URLEncoding.pathSegment(name))/get", timeoutSeconds: nil), as: "export").body
    }

    /// Several images in one `docker save` tar, streamed; layers they share appear once.
    public func exportImages(_ names: [String]) async throws -> ChunkSequence {
        try await call(EngineRequest("GET", "/images/get", query: names.map { ("names", $0) }, timeoutSeconds: nil), as: "export").body
    }

    /// Creates an image from a root file system tar (`docker import`).
    public func importImage(_ tar: ChunkSequence, repository: String, tag: String, changes: [String] = []) async throws {
        var query = [("fromSrc", "-"), ("repo", repository), ("tag", tag)]
        for change in changes { query.append(("changes", change)) }
        let request = EngineRequest("POST", "/images/create", query: query,
                                    body: .stream(tar, contentType: "application/x-tar", length: nil), timeoutSeconds: nil)
        try await expectCleanStream(try await call(request, as: "import"), request: request.summary)
    }

    /// Pulls `repository:tag` from its registry; progress goes to `progress`.
    public func pull(repository: String, tag: String, registryAuth: String? = nil, progress: @Sendable (BuildMessage) -> Void = { _ in }) async throws {
        var headers: [(String, String)] = []
        if let registryAuth { headers.append(("X-Registry-Auth", registryAuth)) }
        let request = EngineRequest("POST", "/images/create", query: [("fromImage", repository), ("tag", tag)], headers: headers, timeoutSeconds: nil)
        try await expectCleanStream(try await call(request, as: "pull"), request: request.summary, progress: progress)
    }

    /// Pushes `name:tag`; `registryAuth` is the base64url JSON the `X-Registry-Auth` header takes.
    public func push(_ name: String, tag: String, registryAuth: String, progress: @Sendable (BuildMessage) -> Void = { _ in }) async throws {
        let request = EngineRequest("POST", "/images/\(URLEncoding.pathSegment(name))/push", query: [("tag", tag)],
                                    headers: [("X-Registry-Auth", registryAuth)], timeoutSeconds: nil)
        try await expectCleanStream(try await call(request, as: "push"), request: request.summary, progress: progress)
    }

    /// Reads a JSON message stream and throws its error message, if it carries one.
    private func expectCleanStream(_ response: EngineResponse, request: String, progress: @Sendable (BuildMessage) -> Void = { _ in }) async throws {
        var decoder = JSONLineDecoder()
        for try await chunk in response.body {
            for message in decoder.feed(chunk) {
                if case .error(let text, _) = message { throw DockerEngineError.http(status: 200, request: request, message: text) }
                progress(message)
            }
        }
        for message in decoder.finish() {
            if case .error(let text, _) = message { throw DockerEngineError.http(status: 200, request: request, message: text) }
        }
    }
}
