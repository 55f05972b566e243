public enum DockerEngineVersion { public static let placeholder = 0 }
