import ContainerBasics
/// Writing values into Dockerfile instructions, for the generated Dockerfiles and the release
/// image's labels.
public enum DockerfileSyntax {
    /// A double-quoted Dockerfile value. `$` is escaped in labels; in `ENV` it is left for the
    /// builder to expand, as a Dockerfile author would expect (`PATH=/opt/bin:$PATH`).
    public static func quote(_ value: String, escapeDollar: Bool) -> String {
        var result = "\""
        for character in value {
            switch character {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case "$" where escapeDollar: result += "\\$"
            default: result.append(character)
            }
        }
        return result + "\""
    }

    public static func jsonList(_ items: [String]) -> String {
        items.map(JSONValue.quoted).joined(separator: ", ")
    }
}
