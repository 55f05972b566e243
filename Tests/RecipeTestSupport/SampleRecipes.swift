import ImageGenValues
import Planning
import TestSupport

/// Recipes more than one tier of tests reads.
public enum SampleRecipes {
    /// ``shapes`` planned in a scratch directory with the files it copies and bakes.
    public static func planShapes() -> (BuildPlan?, Diagnostics) {
        let scratch = Scratch()
        scratch.write("files/one.txt", "one\n")
        scratch.write("files/two.txt", "two\n")
        scratch.write("ctx/manifest.yaml", "docs: [a.md]\n")
        scratch.write("ctx/a.md", "a\n")
        return RecipeTestSupport.plan(shapes, in: scratch)
    }

    /// Dockerfiles of every shape: busybox, alpine, pinned digests, pipes, env, copies, entrypoints.
    public static let shapes = """
        recipe: shapes
        args: {TOOL_VERSION: "1.2"}
        labels:
          org.opencontainers.image.source: https://example.invalid/shapes
        layers:
          tiny:
            from: imagegen-test/busybox:1
            distro: busybox
            user: {name: dev, uid: 1000, gid: 1001, home: /home/dev}
            workdir: /workspace
            env: {PATH: "/opt/tools/bin:$PATH", GREETING: "hello \\"world\\""}
            run: ["mkdir -p /opt/tools/bin", "echo ${TOOL_VERSION} | tee /opt/tools/VERSION"]
            entrypoint: ["/bin/sh", "-c"]
            cmd: ["echo hi"]
          alpine-tools:
            from: alpine:3.20
            packages: [jq, ripgrep, "curl=8.9.1-r0"]
            user: {name: app, uid: 2000}
            copy:
              - {src: files, dest: /opt/files, owner: user}
              - {src: files/one.txt, dest: /etc/one.txt}
          debian-dev:
            from: debian:bookworm-slim@sha256:\(String(repeating: "ab", count: 32))
            packages: [git, make]
            user: {name: dev, uid: 1000}
          debian-child:
            from: debian-dev
            packages: [python3]
            run: ["python3 -c 'print(1)' > /tmp/out || true"]
            workdir: /srv
            labels: {com.example.team: platform}
          context:
            from: debian-child
            context: {dir: ctx, dest: /srv/context}

        """

    /// Two platforms, and a layer narrowed to one.
    public static let twoPlatforms = """
        recipe: demo
        platforms: [linux/amd64, linux/arm64]
        layers:
          base:
            from: imagegen-test/busybox:1
            distro: busybox
            user: {name: dev, uid: 1000}
            workdir: /workspace
          tools:
            from: base
            run: ["echo tools > /tmp/tools"]
          native:
            from: tools
            platforms: [linux/amd64]
            run: ["echo native > /tmp/native"]

        """

    /// Every recipe of the repository: the example, the OpenCode family on Debian and on Alpine.
    public static let repositoryRecipes = ["minimal", "sandbox", "opencode-sandbox", "opencode-sandbox-alpine"]
}
