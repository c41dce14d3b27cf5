// Declared inputs: a misspelt field is a compile error, and the input is
// checked once before the run (docs/authoring.md).
policy doc_read(owner: did, classification: string, level?: number) {
    require classification != "secret" || (level != null ? level >= 3 : false), "clearance too low"
    return owner == caller || classification == "public"
}
