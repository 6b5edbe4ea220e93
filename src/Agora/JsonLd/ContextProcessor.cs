using System.Text.Json;
using System.Text.Json.Nodes;
using Agora.Errors;

namespace Agora.JsonLd;

/// A term of an active context while it is being built; Prefix says whether it may be used to build compact IRIs.
internal sealed record ProcessedTerm(string Id, string? Type, string? Container, bool Prefix);

/// What a URL in an @context resolved to: the document's "@context" value and, for stored contexts, the entry it
/// came from (so hits can be counted and cached active contexts invalidated when it changes).
internal readonly record struct LoadedContext(JsonNode? Context, StoredContext? Source);

/// JSON-LD 1.1 context processing (https://www.w3.org/TR/json-ld11-api/#context-processing-algorithm), reduced to
/// what NGSI-LD needs: term definitions, compact IRIs, @vocab, @import, nested remote contexts, null resets and
/// @protected (accepted; the core context is applied last, so its terms win whatever a user context says).
/// Scoped contexts, @base, @language and @direction do not affect attribute and type names and are ignored.
internal sealed class ContextProcessor(Func<string, CancellationToken, ValueTask<LoadedContext>> load)
{
    public const int MaxDepth = 16;

    private static readonly HashSet<string> Keywords =
    [
        "@base", "@container", "@context", "@direction", "@graph", "@id", "@import", "@included", "@index", "@json",
        "@language", "@list", "@nest", "@none", "@prefix", "@propagate", "@protected", "@reverse", "@set", "@type",
        "@value", "@version", "@vocab",
    ];

    private static readonly HashSet<string> Containers = ["@list", "@set", "@language", "@index", "@id", "@type", "@graph"];

    public Dictionary<string, ProcessedTerm> Terms { get; } = new(StringComparer.Ordinal);
    public string? Vocab { get; private set; } = CoreContext.Vocab;
    public bool UserVocab { get; private set; }
    public CoreVersions Core { get; private set; } = CoreVersions.V18;
    public List<StoredContext> Sources { get; } = [];

    public static bool IsKeyword(string s) => Keywords.Contains(s);

    public ValueTask ProcessAsync(JsonNode? context, CancellationToken ct) => ProcessAsync(context, [], 0, ct);

    private async ValueTask ProcessAsync(JsonNode? context, List<string> remoteStack, int depth, CancellationToken ct)
    {
        switch (context)
        {
            case null:
                // A null context resets to the initial state: no user terms, the core @vocab.
                Terms.Clear();
                Vocab = CoreContext.Vocab;
                UserVocab = false;
                break;
            case JsonArray array:
                foreach (var item in array)
                {
                    await ProcessAsync(item, remoteStack, depth, ct);
                }
                break;
            case JsonObject local:
                await ProcessObjectAsync(local, remoteStack, depth, ct);
                break;
            case JsonValue value when value.TryGetValue<string>(out var url):
                await ProcessUrlAsync(url, remoteStack, depth, ct);
                break;
            default:
                throw Invalid($"An @context must be a URL, an object, an array of them or null, not {context.GetValueKind()}.");
        }
    }

    private async ValueTask ProcessUrlAsync(string url, List<string> remoteStack, int depth, CancellationToken ct)
    {
        if (CoreContext.VersionOf(url) is { } version)
        {
            // The core context inside a user context: its terms and @vocab take effect here, as JSON-LD says, and it
            // is applied again at the very end.
            ApplyCore(version);
            if (version == CoreVersions.V19)
            {
                Core = CoreVersions.V19;
            }
            return;
        }
        if (remoteStack.Contains(url))
        {
            throw Invalid($"The @context {url} includes itself (recursive context inclusion).");
        }
        if (depth >= MaxDepth)
        {
            throw Invalid($"The @context {url} nests remote contexts more than {MaxDepth} levels deep.");
        }
        var loaded = await load(url, ct);
        if (loaded.Source is { } source && !Sources.Contains(source))
        {
            Sources.Add(source);
        }
        remoteStack.Add(url);
        await ProcessAsync(loaded.Context, remoteStack, depth + 1, ct);
        remoteStack.RemoveAt(remoteStack.Count - 1);
    }

    private void ApplyCore(CoreVersions version)
    {
        foreach (var (name, term) in CoreTerms.Of(version))
        {
            Terms[name] = term;
        }
        Vocab = CoreContext.Vocab;
        UserVocab = false;
    }

    private async ValueTask ProcessObjectAsync(JsonObject local, List<string> remoteStack, int depth, CancellationToken ct)
    {
        if (local.TryGetPropertyValue("@version", out var version) &&
            !(version is JsonValue v && v.GetValueKind() == JsonValueKind.Number && v.GetValue<double>() == 1.1))
        {
            throw Invalid("@version must be the number 1.1.");
        }
        if (local.TryGetPropertyValue("@import", out var import))
        {
            if (import is not JsonValue iv || !iv.TryGetValue<string>(out var importUrl))
            {
                throw Invalid("@import must be a URL string.");
            }
            if (depth >= MaxDepth)
            {
                throw Invalid($"The @context {importUrl} nests remote contexts more than {MaxDepth} levels deep.");
            }
            var loaded = await load(importUrl, ct);
            if (loaded.Source is { } source && !Sources.Contains(source))
            {
                Sources.Add(source);
            }
            if (loaded.Context is not JsonObject imported || imported.ContainsKey("@import"))
            {
                throw Invalid($"The @context imported from {importUrl} must be a single object without @import.");
            }
            // Entries of the importing context override those imported.
            var merged = (JsonObject)imported.DeepClone();
            foreach (var (key, value) in local)
            {
                if (key != "@import")
                {
                    merged[key] = value?.DeepClone();
                }
            }
            local = merged;
        }
        if (local.TryGetPropertyValue("@vocab", out var vocab))
        {
            SetVocab(vocab);
        }
        var defined = new Dictionary<string, bool>(StringComparer.Ordinal);
        foreach (var (term, _) in local)
        {
            if (term is "@version" or "@import" or "@vocab" or "@base" or "@language" or "@direction" or "@propagate" or "@protected")
            {
                continue;
            }
            Define(local, term, defined);
        }
    }

    private void SetVocab(JsonNode? vocab)
    {
        if (vocab is null)
        {
            // The user's @vocab is removed; the core @vocab (applied last) takes over again.
            Vocab = CoreContext.Vocab;
            UserVocab = false;
            return;
        }
        if (vocab is not JsonValue value || !value.TryGetValue<string>(out var text))
        {
            throw Invalid("@vocab must be a string or null.");
        }
        // A relative @vocab (including "") is vocabulary-relative: it extends the @vocab in force.
        var iri = ExpandWith(text, null, null);
        if (!iri.Contains(':') && !iri.StartsWith("_:", StringComparison.Ordinal))
        {
            throw Invalid($"@vocab \"{text}\" does not expand to an IRI.");
        }
        Vocab = iri;
        UserVocab = true;
    }

    private void Define(JsonObject local, string term, Dictionary<string, bool> defined)
    {
        if (defined.TryGetValue(term, out var done))
        {
            if (done)
            {
                return;
            }
            throw Invalid($"The term \"{term}\" is defined in terms of itself (cyclic IRI mapping).");
        }
        defined[term] = false;
        var value = local[term];
        if (term.Length == 0)
        {
            throw Invalid("A term must not be the empty string.");
        }
        if (IsKeyword(term))
        {
            // JSON-LD 1.1 allows only "@type" with @container @set (and @protected) to be "redefined".
            if (term == "@type" && value is JsonObject o && o.All(p => p.Key is "@container" or "@protected") &&
                (o["@container"] is null || o["@container"]!.GetValueKind() == JsonValueKind.String && (string?)o["@container"] == "@set"))
            {
                defined[term] = true;
                return;
            }
            throw Invalid($"The keyword {term} cannot be redefined (keyword redefinition).");
        }
        if (LooksLikeKeyword(term))
        {
            // Reserved for future keywords: JSON-LD says to ignore such terms.
            defined[term] = true;
            return;
        }
        Terms.Remove(term);
        if (value is null)
        {
            // Explicitly unmapped: the name falls back to @vocab like any undefined name.
            defined[term] = true;
            return;
        }

        string? idValue;
        bool hasId;
        string? type = null;
        string? container = null;
        bool? prefixFlag = null;
        var simple = false;
        switch (value)
        {
            case JsonValue sv when sv.TryGetValue<string>(out var s):
                idValue = s;
                hasId = true;
                simple = true;
                break;
            case JsonObject definition:
                if (definition.ContainsKey("@reverse"))
                {
                    throw Invalid($"The term \"{term}\" uses @reverse, which NGSI-LD does not support.");
                }
                hasId = definition.TryGetPropertyValue("@id", out var idNode);
                idValue = null;
                if (hasId && idNode is not null)
                {
                    if (idNode is not JsonValue iv || !iv.TryGetValue<string>(out var idText))
                    {
                        throw Invalid($"The @id of the term \"{term}\" must be a string (invalid IRI mapping).");
                    }
                    idValue = idText;
                }
                else if (hasId)
                {
                    // "@id": null unmaps the term.
                    defined[term] = true;
                    return;
                }
                if (definition.TryGetPropertyValue("@type", out var typeNode))
                {
                    if (typeNode is not JsonValue tv || !tv.TryGetValue<string>(out var typeText))
                    {
                        throw Invalid($"The @type of the term \"{term}\" must be a string (invalid type mapping).");
                    }
                    type = typeText is "@id" or "@vocab" or "@json" or "@none" ? typeText
                        // "@type": "DateTime" in a user context means the NGSI-LD DateTime, although the core context
                        // that defines it comes later; strict JSON-LD would make it a default-context IRI.
                        : !local.ContainsKey(typeText) && !Terms.ContainsKey(typeText) && CoreTerms.Of(Core).TryGetValue(typeText, out var coreType) ? coreType.Id
                        : ExpandWith(typeText, local, defined);
                    if (type[0] != '@' && !type.Contains(':'))
                    {
                        throw Invalid($"The @type \"{typeText}\" of the term \"{term}\" is not an IRI (invalid type mapping).");
                    }
                    if (type[0] == '@' && type is not ("@id" or "@vocab" or "@json" or "@none"))
                    {
                        throw Invalid($"The @type \"{typeText}\" of the term \"{term}\" is not allowed (invalid type mapping).");
                    }
                }
                if (definition.TryGetPropertyValue("@container", out var containerNode) && containerNode is not null)
                {
                    container = ContainerOf(term, containerNode);
                }
                if (definition.TryGetPropertyValue("@prefix", out var prefixNode))
                {
                    if (prefixNode is not JsonValue pv || pv.GetValueKind() is not (JsonValueKind.True or JsonValueKind.False))
                    {
                        throw Invalid($"The @prefix of the term \"{term}\" must be a boolean (invalid @prefix value).");
                    }
                    prefixFlag = pv.GetValue<bool>();
                }
                break;
            default:
                throw Invalid($"The definition of the term \"{term}\" must be a string, an object or null (invalid term definition).");
        }

        string id;
        if (hasId && idValue is not null && idValue != term)
        {
            if (idValue.StartsWith('@'))
            {
                if (idValue == "@context")
                {
                    throw Invalid($"The term \"{term}\" cannot alias @context (invalid keyword alias).");
                }
                if (!IsKeyword(idValue))
                {
                    // Looks like a keyword but is none: ignored, as JSON-LD says.
                    defined[term] = true;
                    return;
                }
                id = idValue;
            }
            else
            {
                id = ExpandWith(idValue, local, defined);
                if (!id.Contains(':') && !IsKeyword(id))
                {
                    throw Invalid($"The term \"{term}\" maps to \"{idValue}\", which is not an IRI (invalid IRI mapping).");
                }
            }
        }
        else if (term.Contains(':'))
        {
            id = ExpandWith(term, local, defined);
        }
        else if (Vocab is not null)
        {
            id = Vocab + term;
        }
        else
        {
            throw Invalid($"The term \"{term}\" has no IRI and there is no @vocab (invalid IRI mapping).");
        }

        var prefix = prefixFlag ?? (simple && !term.Contains(':') && !term.Contains('/') && id.Length > 0 && IsGenDelim(id[^1]));
        Terms[term] = new ProcessedTerm(id, type, container, prefix);
        defined[term] = true;
    }

    private static string ContainerOf(string term, JsonNode node)
    {
        var values = node switch
        {
            JsonValue v when v.TryGetValue<string>(out var s) => [s],
            JsonArray a when a.All(i => i is JsonValue iv && iv.GetValueKind() == JsonValueKind.String) => a.Select(i => (string)i!).ToArray(),
            _ => throw Invalid($"The @container of the term \"{term}\" must be a keyword or an array of them (invalid container mapping)."),
        };
        if (values.Length == 0 || values.Any(c => !Containers.Contains(c)))
        {
            throw Invalid($"The @container of the term \"{term}\" is not a container keyword (invalid container mapping).");
        }
        // One container is the common case; combinations are kept in a stable order so equal contexts compare equal.
        return values.Length == 1 ? values[0] : string.Join(',', values.Order(StringComparer.Ordinal));
    }

    /// IRI expansion with vocab=true while a local context is being defined: terms of the local context are defined
    /// first when they are used (JSON-LD's "defined" map), then the active terms, compact IRIs and @vocab apply.
    private string ExpandWith(string value, JsonObject? local, Dictionary<string, bool>? defined)
    {
        if (IsKeyword(value))
        {
            return value;
        }
        if (local is not null && defined is not null && local.ContainsKey(value) && !(defined.TryGetValue(value, out var d) && d))
        {
            Define(local, value, defined);
        }
        if (Terms.TryGetValue(value, out var term))
        {
            return term.Id;
        }
        var colon = value.IndexOf(':', StringComparison.Ordinal);
        if (colon >= 0)
        {
            var prefix = value[..colon];
            var suffix = value[(colon + 1)..];
            if (prefix == "_" || suffix.StartsWith("//", StringComparison.Ordinal))
            {
                return value;
            }
            if (local is not null && defined is not null && local.ContainsKey(prefix) && !(defined.TryGetValue(prefix, out var pd) && pd))
            {
                Define(local, prefix, defined);
            }
            return Terms.TryGetValue(prefix, out var p) && !p.Id.StartsWith('@') ? p.Id + suffix : value;
        }
        return Vocab is not null ? Vocab + value : value;
    }

    private static bool LooksLikeKeyword(string s) => s.Length > 1 && s[0] == '@' && s.Skip(1).All(char.IsAsciiLetter);

    private static bool IsGenDelim(char c) => c is ':' or '/' or '?' or '#' or '[' or ']' or '@';

    public static NgsiLdException Invalid(string detail) => NgsiLdException.Invalid("Invalid @context", detail);
}

/// The processed core context of each version, built once from Agora's table by the same processor as user contexts.
internal static class CoreTerms
{
    private static readonly Lazy<IReadOnlyDictionary<string, ProcessedTerm>> V18 = new(() => Build(CoreVersions.V18));
    private static readonly Lazy<IReadOnlyDictionary<string, ProcessedTerm>> V19 = new(() => Build(CoreVersions.V19));

    public static IReadOnlyDictionary<string, ProcessedTerm> Of(CoreVersions version) =>
        version.HasFlag(CoreVersions.V19) ? V19.Value : V18.Value;

    private static Dictionary<string, ProcessedTerm> Build(CoreVersions version)
    {
        var processor = new ContextProcessor((url, _) => throw new InvalidOperationException($"The core context references {url}."));
        // The core document is a single local object, so processing completes synchronously.
        var task = processor.ProcessAsync(CoreContext.Document(version)["@context"], CancellationToken.None);
        if (!task.IsCompletedSuccessfully)
        {
            throw new InvalidOperationException("The core context must process synchronously.");
        }
        return new Dictionary<string, ProcessedTerm>(processor.Terms, StringComparer.Ordinal);
    }
}
