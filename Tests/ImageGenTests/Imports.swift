// The helpers every file of this target uses (Scratch, run, plan, diagnostics, sample recipes).
@_exported import RecipeTestSupport
