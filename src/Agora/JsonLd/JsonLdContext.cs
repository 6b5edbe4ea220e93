using System.Text.Json.Nodes;

namespace Agora.JsonLd;

// TEMPORARY STAND-IN: fixes the surface the entity code is written against. Replaced by the real
// context processing before anything lands.

/// One term of an active context.
internal sealed record TermDefinition(string Id, string? TypeCoercion, string? Container);

/// An active context: the user's @context(s) processed with the NGSI-LD core context applied last.
internal sealed class JsonLdContext
{
    public const string CoreUrl = "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.8.jsonld";
    public static JsonLdContext Core { get; } = new();

    /// What an application/ld+json response carries as "@context".
    public JsonNode ResponseContext => JsonValue.Create(CoreUrl);

    /// The URL an application/json response names in its Link header.
    public string LinkUrl => CoreUrl;

    /// Vocabulary-relative expansion of an attribute name or type name (terms, compact IRIs, @vocab).
    public string ExpandTerm(string term) => term.Contains(':') ? term : "https://uri.etsi.org/ngsi-ld/default-context/" + term;

    /// The shortest form of an IRI under this context: a term, a compact IRI, a @vocab-relative name, or the IRI.
    public string CompactIri(string iri) => iri.StartsWith("https://uri.etsi.org/ngsi-ld/default-context/", StringComparison.Ordinal) ? iri["https://uri.etsi.org/ngsi-ld/default-context/".Length..] : iri;

    /// Document-relative expansion for "@id"-coerced values: compact IRIs are expanded, bare terms are not.
    public string ExpandIri(string value) => value;

    /// The inverse of ExpandIri.
    public string CompactId(string iri) => iri;

    /// The definition of the term that names this expanded IRI, if the context has one.
    public TermDefinition? DefinitionOf(string expandedIri) => null;
}

/// Turns a request's @context (a URL, an object, an array or nothing) into an active context.
internal sealed class ContextResolver
{
    public const string HttpClientName = "jsonld";

    public ValueTask<JsonLdContext> ResolveAsync(JsonNode? context, CancellationToken ct) => ValueTask.FromResult(JsonLdContext.Core);
}

internal static class JsonLdContextsApi
{
    public static RouteGroupBuilder MapJsonLdContexts(this RouteGroupBuilder group) => group;
}
