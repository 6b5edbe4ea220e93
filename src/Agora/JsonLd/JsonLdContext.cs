using System.Collections.Concurrent;
using System.Collections.Frozen;
using System.Text.Json.Nodes;

namespace Agora.JsonLd;

/// One term of an active context. TypeCoercion is "@id", "@vocab", "@json", "@none", a datatype IRI or null.
internal sealed record TermDefinition(string Id, string? TypeCoercion, string? Container);

/// An active context: the user's @context(s) processed with the NGSI-LD core context applied last, so core terms
/// win. A user @vocab wins over the core's default-context @vocab (Orion-LD does the same; without it a user
/// @vocab would never take effect, since the core is always applied after it). Immutable and shared between
/// requests; expansion and compaction results are memoized.
internal sealed class JsonLdContext
{
    public const string CoreUrl = CoreContext.V18Url;

    // Attacker-chosen names must not grow a long-lived context's memo without bound.
    private const int MaxMemo = 8192;

    private readonly FrozenDictionary<string, ProcessedTerm> terms;
    private readonly FrozenDictionary<string, TermDefinition> definitions;
    private readonly FrozenDictionary<string, string> termOfIri;
    private readonly (string Term, string Iri)[] prefixes;
    private readonly string? vocab;
    private readonly JsonNode responseContext;
    private readonly string? linkUrl;
    private readonly ImplicitContext? implicitContext;
    private readonly ConcurrentDictionary<string, string> expanded = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, string> compacted = new(StringComparer.Ordinal);

    public static JsonLdContext Core { get; } = new(new Dictionary<string, ProcessedTerm>(), CoreContext.Vocab, CoreVersions.V18, JsonValue.Create(CoreUrl), CoreUrl);

    /// Builds an active context from processed user terms. linkUrl is the client's single context URL, if it gave
    /// one; otherwise the context is served as the ImplicitlyCreated one implicitContext names.
    internal JsonLdContext(IReadOnlyDictionary<string, ProcessedTerm> userTerms, string? vocab, CoreVersions core,
        JsonNode responseContext, string? linkUrl, ImplicitContext? implicitContext = null,
        IReadOnlyList<StoredContext>? sources = null)
    {
        var all = new Dictionary<string, ProcessedTerm>(userTerms, StringComparer.Ordinal);
        foreach (var (name, term) in CoreTerms.Of(core))
        {
            all[name] = term;
        }
        terms = all.ToFrozenDictionary(StringComparer.Ordinal);
        definitions = all.ToFrozenDictionary(p => p.Key, p => new TermDefinition(p.Value.Id, p.Value.Type, p.Value.Container), StringComparer.Ordinal);
        // JSON-LD term selection without value matching: the shortest term, then the lexicographically least.
        termOfIri = all
            .GroupBy(p => p.Value.Id, StringComparer.Ordinal)
            .ToFrozenDictionary(g => g.Key, g => g.Select(p => p.Key).OrderBy(t => t.Length).ThenBy(t => t, StringComparer.Ordinal).First(), StringComparer.Ordinal);
        prefixes = [.. all.Where(p => p.Value.Prefix && !p.Value.Id.StartsWith('@')).Select(p => (p.Key, p.Value.Id))];
        this.vocab = vocab;
        this.responseContext = responseContext;
        this.linkUrl = linkUrl;
        this.implicitContext = implicitContext;
        Sources = sources ?? [];
    }

    /// The stored contexts (remote, hosted, implicit) this active context was built from.
    internal IReadOnlyList<StoredContext> Sources { get; }

    /// What an application/ld+json response carries as "@context": a fresh node each call, free to attach.
    public JsonNode ResponseContext => responseContext.DeepClone();

    /// The URL for a Link header: the client's context URL if it gave exactly one, CoreUrl for Core, otherwise the
    /// path of the ImplicitlyCreated context Agora serves, "/ngsi-ld/v1/jsonldContexts/{localId}". A path is a valid
    /// Link target (RFC 8288 resolves it against the request URL); <see cref="ContextUrls.Absolute"/> makes it absolute.
    public string LinkUrl
    {
        get
        {
            if (linkUrl is not null)
            {
                return linkUrl;
            }
            implicitContext!.Store.EnsureImplicit(implicitContext.LocalId, implicitContext.Tenant, responseContext);
            return ContextUrls.PathOf(implicitContext.LocalId);
        }
    }

    /// Vocabulary-relative IRI expansion (JSON-LD IRI expansion with vocab=true).
    public string ExpandTerm(string term)
    {
        if (expanded.TryGetValue(term, out var iri))
        {
            return iri;
        }
        iri = Expand(term, vocabRelative: true);
        if (expanded.Count < MaxMemo)
        {
            expanded.TryAdd(term, iri);
        }
        return iri;
    }

    /// Vocabulary-relative IRI compaction: a term, else a @vocab-relative name, else a compact IRI, else the IRI.
    /// @vocab comes before compact IRIs as in JSON-LD 1.1 IRI compaction: otherwise default-context names would
    /// come out as "ngsi-ld:default-context/name". Every candidate is checked to expand back to the IRI.
    public string CompactIri(string iri)
    {
        if (compacted.TryGetValue(iri, out var name))
        {
            return name;
        }
        name = Compact(iri);
        if (compacted.Count < MaxMemo)
        {
            compacted.TryAdd(iri, name);
        }
        return name;
    }

    /// Document-relative expansion for "@id"-coerced values: compact IRIs are expanded, bare terms are not.
    public string ExpandIri(string value) => Expand(value, vocabRelative: false);

    /// The inverse of ExpandIri: a compact IRI with a prefix term where one fits, else the IRI unchanged.
    public string CompactId(string iri)
    {
        var best = BestCompactIri(iri, vocabRelative: false);
        return best ?? iri;
    }

    /// The definition of the term CompactIri picks for this IRI, or null when it compacts to no term.
    public TermDefinition? DefinitionOf(string expandedIri)
    {
        var name = CompactIri(expandedIri);
        return definitions.TryGetValue(name, out var definition) && definition.Id == expandedIri ? definition : null;
    }

    /// Whether every stored context this was built from is still the one in force (not replaced, deleted or expired).
    internal bool IsCurrent(DateTimeOffset now)
    {
        foreach (var source in Sources)
        {
            if (!source.IsCurrent(now))
            {
                return false;
            }
        }
        return true;
    }

    internal void CountUse()
    {
        foreach (var source in Sources)
        {
            source.Hit();
        }
    }

    private string Expand(string value, bool vocabRelative)
    {
        if (value.Length > 0 && value[0] == '@' && ContextProcessor.IsKeyword(value))
        {
            return value;
        }
        if (vocabRelative && terms.TryGetValue(value, out var term))
        {
            return term.Id;
        }
        var colon = value.IndexOf(':', StringComparison.Ordinal);
        if (colon >= 0)
        {
            var prefix = value.AsSpan(0, colon);
            var suffix = value.AsSpan(colon + 1);
            if (prefix is "_" || suffix.StartsWith("//"))
            {
                return value;
            }
            return terms.GetAlternateLookup<ReadOnlySpan<char>>().TryGetValue(prefix, out var p) && !p.Id.StartsWith('@')
                ? string.Concat(p.Id, suffix)
                : value;
        }
        return vocabRelative && vocab is not null ? vocab + value : value;
    }

    private string Compact(string iri)
    {
        if (termOfIri.TryGetValue(iri, out var term))
        {
            return term;
        }
        if (vocab is not null && iri.Length > vocab.Length && iri.StartsWith(vocab, StringComparison.Ordinal))
        {
            var suffix = iri[vocab.Length..];
            if (Expand(suffix, vocabRelative: true) == iri)
            {
                return suffix;
            }
        }
        return BestCompactIri(iri, vocabRelative: true) ?? iri;
    }

    private string? BestCompactIri(string iri, bool vocabRelative)
    {
        string? best = null;
        foreach (var (prefix, prefixIri) in prefixes)
        {
            if (iri.Length <= prefixIri.Length || !iri.StartsWith(prefixIri, StringComparison.Ordinal))
            {
                continue;
            }
            var candidate = string.Concat(prefix, ":", iri.AsSpan(prefixIri.Length));
            if (Expand(candidate, vocabRelative) != iri)
            {
                continue;
            }
            if (best is null || candidate.Length < best.Length || candidate.Length == best.Length && string.CompareOrdinal(candidate, best) < 0)
            {
                best = candidate;
            }
        }
        return best;
    }
}

/// Where an inline context is kept as ImplicitlyCreated once a client needs its URL: the tenant's, under localId.
internal sealed record ImplicitContext(ContextStore Store, string Tenant, string LocalId);

/// The URLs under which Agora serves the contexts it stores.
internal static class ContextUrls
{
    public const string BasePath = "/ngsi-ld/v1/jsonldContexts/";

    public static string PathOf(string localId) => BasePath + Uri.EscapeDataString(localId);

    /// A context URL as a client can fetch it: paths are made absolute against the request's scheme and host.
    public static string Absolute(string url, HttpRequest request) =>
        url.StartsWith('/') ? $"{request.Scheme}://{request.Host}{request.PathBase}{url}" : url;

    /// The localId named by a URL or path of the form ".../jsonldContexts/{localId}", or null.
    public static string? LocalIdOf(string url)
    {
        var at = url.LastIndexOf("/jsonldContexts/", StringComparison.Ordinal);
        if (at < 0)
        {
            return null;
        }
        var id = url[(at + "/jsonldContexts/".Length)..];
        return id.Length == 0 || id.Contains('/') ? null : Uri.UnescapeDataString(id);
    }
}
