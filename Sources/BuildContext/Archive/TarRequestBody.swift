import ContainerBasics
import ImageGenValues

extension ChunkSequence {
    /// The deterministic tar of `entries` (in archive order), made as the reader asks for it.
    public static func tar(_ entries: [ContextEntry]) -> ChunkSequence {
        ChunkSequence {
            let stream = try TarWriter(entries: entries)
            return { try stream.next() }
        }
    }
}
