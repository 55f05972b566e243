/// imagegen's own version.
public enum ImageGenVersion {
    public static let current = "0.1.0"
}
