# Run inside an image (python3 -c): what the image's own tools say it holds, as JSON, for
# imagegen's package inventory to be compared with. Debian: dpkg-query. Python: importlib.metadata
# (what pip list reads) over every directory holding *.dist-info. Node: package.json of every
# package directory (node_modules/<name>, node_modules/@scope/<name>, Node's global directories).
import importlib.metadata, json, os, subprocess

out = {"deb": [], "pypi": [], "npm": []}
try:
    listed = subprocess.run(["dpkg-query", "-W", "-f", "${Package}\t${Version}\t${db:Status-Status}\n"], capture_output=True, text=True).stdout
    out["deb"] = sorted({(p, v) for p, v, s in (line.split("\t") for line in listed.splitlines()) if s == "installed"})
except FileNotFoundError:
    pass

sites, manifests = set(), []
for root, dirs, files in os.walk("/"):
    if root in ("/proc", "/sys", "/dev"):
        dirs[:] = []
        continue
    if any(d.endswith(".dist-info") for d in dirs):
        sites.add(root)
    if "package.json" in files:
        parts = root.split("/")
        parent, above = "/".join(parts[:-1]), "/".join(parts[:-2])
        scoped = len(parts) > 2 and parts[-2].startswith("@")
        globals_ = ("/usr/share/nodejs", "/usr/lib/nodejs")
        if parts[-2] == "node_modules" or parent in globals_ or (scoped and (parts[-3] == "node_modules" or above in globals_)):
            manifests.append(os.path.join(root, "package.json"))
for site in sorted(sites):
    for dist in importlib.metadata.distributions(path=[site]):
        out["pypi"].append([dist.metadata["Name"], dist.version, site])
for manifest in manifests:
    try:
        with open(manifest) as handle:
            document = json.load(handle)
    except Exception:
        continue
    if isinstance(document, dict) and isinstance(document.get("name"), str) and isinstance(document.get("version"), str) and document["name"] and document["version"]:
        out["npm"].append([document["name"], document["version"], os.path.dirname(manifest)])
print(json.dumps(out))
