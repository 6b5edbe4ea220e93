using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Agora.Errors;
using Agora.JsonLd;

namespace Agora.Query;

/// Exact evaluation of a q tree against one stored entity (clause 4.9 semantics):
/// - The path selects target elements: every instance (datasetId) of the attribute, then of each
///   sub-attribute; a term holds when any target element satisfies it.
/// - A target's values are its value member, with arrays taken element by element ("included in the
///   target value"), a ListProperty's valueList, a ListRelationship's objects, a languageMap's texts.
/// - A type mismatch never matches, except for '!=' where it counts as unequal.
/// - Relationships and ListRelationships only take '==' and '!='.
internal static class QEvaluator
{
    /// One target element: its values, how it was reached, and how to expand query text before comparing
    /// (VocabProperty values and @vocab/@id-coerced Property values are stored expanded).
    private readonly record struct Target(IReadOnlyList<JsonNode?> Values, bool IsRelationship, Func<string, string>? Expand);

    public static bool Matches(QNode node, JsonObject entity, JsonLdContext context) => node switch
    {
        QAnd and => and.Operands.All(o => Matches(o, entity, context)),
        QOr or => or.Operands.Any(o => Matches(o, entity, context)),
        QTerm term => Matches(term, entity, context),
        _ => throw new InvalidOperationException(node.GetType().Name),
    };

    private static bool Matches(QTerm term, JsonObject entity, JsonLdContext context)
    {
        var targets = Targets(entity, term.Path, context);
        return term.Op switch
        {
            QOperator.Exists => targets.Any(),
            QOperator.NotExists => !targets.Any(),
            QOperator.Equal => targets.Any(t => Includes(t, term.Value!)),
            QOperator.Unequal => targets.Any(t => !Includes(t, term.Value!)),
            QOperator.Pattern => targets.Any(t => !t.IsRelationship && Strings(t).Any(s => IsMatch((QRegex)term.Value!, s))),
            QOperator.NotPattern => targets.Any(t => !t.IsRelationship && Strings(t) is { Count: > 0 } s && !s.Any(x => IsMatch((QRegex)term.Value!, x))),
            _ => targets.Any(t => !t.IsRelationship && t.Values.Any(v => Ordered(term.Op, Compare(v, (QScalar)term.Value!)))),
        };
    }

    private static bool Ordered(QOperator op, int? c) => c is { } r && op switch
    {
        QOperator.Greater => r > 0,
        QOperator.GreaterOrEqual => r >= 0,
        QOperator.Less => r < 0,
        _ => r <= 0,
    };

    private static List<string> Strings(Target t) =>
        [.. t.Values.Select(Unwrap).OfType<JsonValue>().Where(v => v.GetValueKind() == JsonValueKind.String).Select(v => v.GetValue<string>())];

    private static bool IsMatch(QRegex regex, string s)
    {
        try
        {
            return regex.Compiled.IsMatch(s);
        }
        catch (RegexMatchTimeoutException)
        {
            throw new NgsiLdException(ErrorTypes.TooComplexQuery, "Regular expression too costly",
                $"q: matching the pattern {regex} took longer than {QRegex.Timeout.TotalMilliseconds} ms.");
        }
    }

    /// '==' semantics: some value of the target equals the query value, one of a list, or lies in a range.
    private static bool Includes(Target t, QValue value) => value switch
    {
        QRange range => t.Values.Any(v => Compare(v, range.Min) >= 0 && Compare(v, range.Max) <= 0),
        QList list => list.Items.Any(item => t.Values.Any(v => AreEqual(v, item, t.Expand))),
        QScalar scalar => t.Values.Any(v => AreEqual(v, scalar, t.Expand)),
        _ => false,
    };

    private static bool AreEqual(JsonNode? stored, QScalar value, Func<string, string>? expand)
    {
        if (value is QString or QUri && Unwrap(stored) is JsonValue sv && sv.GetValueKind() == JsonValueKind.String)
        {
            var text = value is QString qs ? qs.Value : ((QUri)value).Value;
            var s = sv.GetValue<string>();
            return s == text || expand is not null && s == expand(text);
        }
        return Compare(stored, value) == 0;
    }

    /// The order of a stored value relative to a query value, or null when their types differ.
    internal static int? Compare(JsonNode? stored, QScalar value)
    {
        if (Unwrap(stored) is not JsonValue v)
        {
            return null;
        }
        var kind = v.GetValueKind();
        switch (value)
        {
            case QNumber n when kind == JsonValueKind.Number:
                return v.TryGetValue<double>(out var d) ? d.CompareTo(n.Value) : null;
            case QBool b when kind is JsonValueKind.True or JsonValueKind.False:
                return (kind == JsonValueKind.True).CompareTo(b.Value);
            case QString or QUri or QDateTime or QDate or QTime when kind == JsonValueKind.String:
                var s = v.GetValue<string>();
                return value switch
                {
                    QString qs => string.CompareOrdinal(s, qs.Value),
                    QUri qu => string.CompareOrdinal(s, qu.Value),
                    QDateTime qd => TemporalText.DateTime(s) is { } at ? at.CompareTo(qd.Value) : null,
                    QDate qd => TemporalText.Date(s) is { } day ? day.CompareTo(qd.Value) : null,
                    QTime qt => TemporalText.Time(s) is { } time ? time.CompareTo(qt.Value) : null,
                    _ => null,
                };
            default:
                return null;
        }
    }

    // A typed JSON-LD literal ({"@type": "DateTime", "@value": "..."}) compares by its @value.
    private static JsonNode? Unwrap(JsonNode? node) => node is JsonObject o && o.TryGetPropertyValue("@value", out var v) ? v : node;

    private static IEnumerable<Target> Targets(JsonObject entity, QPath path, JsonLdContext context)
    {
        if (path.Names.Count == 0)
        {
            if (entity.TryGetPropertyValue(path.Metadata!, out var member))
            {
                yield return new Target([member], false, null);
            }
            yield break;
        }
        string? iri = null;
        IEnumerable<JsonObject> elements = [entity];
        foreach (var name in path.Names)
        {
            var key = context.ExpandTerm(name);
            // A name without @vocab stays a bare word, which could collide with the stored short members.
            if (!key.Contains(':', StringComparison.Ordinal))
            {
                yield break;
            }
            iri = key;
            elements = elements.SelectMany(e => Instances(e[key])).ToList();
        }
        foreach (var element in elements)
        {
            if (path.Metadata is not null)
            {
                if (element.TryGetPropertyValue(path.Metadata, out var member))
                {
                    yield return new Target([member], false, null);
                }
                continue;
            }
            if (ValueTarget(element, iri!, path.TrailingPath, context) is { } target)
            {
                yield return target;
            }
        }
    }

    private static IEnumerable<JsonObject> Instances(JsonNode? node) => node switch
    {
        JsonArray a => a.OfType<JsonObject>(),
        JsonObject o => [o],
        _ => [],
    };

    private static Target? ValueTarget(JsonObject instance, string iri, IReadOnlyList<string> trailing, JsonLdContext context)
    {
        var type = (string?)instance["type"] ?? "Property";
        switch (type)
        {
            case "Relationship":
                return trailing.Count == 0 && instance.TryGetPropertyValue("object", out var obj) ? new Target(Elements(obj), true, null) : null;
            case "ListRelationship":
                return trailing.Count == 0 && instance["objectList"] is JsonArray list
                    ? new Target([.. list.Select(i => i is JsonObject o ? o["object"] : i)], true, null)
                    : null;
            case "LanguageProperty":
                return instance["languageMap"] is JsonObject map ? LanguageTarget(map, trailing) : null;
            case "VocabProperty":
                return trailing.Count == 0 && instance.TryGetPropertyValue("vocab", out var vocab) ? new Target(Elements(vocab), false, context.ExpandTerm) : null;
            case "ListProperty":
                return instance["valueList"] is JsonArray values && Member(values, trailing, out var item) ? new Target(Elements(item), false, null) : null;
            default:
                if (!instance.TryGetPropertyValue(Entities.Members.ValueMember(type), out var value) || !Member(value, trailing, out var target))
                {
                    return null;
                }
                var coercion = trailing.Count == 0 && type == "Property" ? context.DefinitionOf(iri)?.TypeCoercion : null;
                Func<string, string>? expand = coercion switch
                {
                    "@vocab" => context.ExpandTerm,
                    "@id" => context.ExpandIri,
                    _ => null,
                };
                return new Target(Elements(target), false, expand);
        }
    }

    // Without a language: every text of the map; with "[*]" the same; with "[tag]" the texts under that tag.
    private static Target? LanguageTarget(JsonObject map, IReadOnlyList<string> trailing)
    {
        if (trailing.Count > 1)
        {
            return null;
        }
        var tag = trailing.Count == 1 && trailing[0] != "*" ? trailing[0] : null;
        var texts = map.Where(p => tag is null || string.Equals(p.Key, tag, StringComparison.OrdinalIgnoreCase))
            .SelectMany(p => Elements(p.Value)).ToList();
        return tag is not null && texts.Count == 0 ? null : new Target(texts, false, null);
    }

    /// ECMAScript member access in dot notation: each segment names a member of a JSON object; anything else
    /// is undefined and the target element counts as absent.
    private static bool Member(JsonNode? value, IReadOnlyList<string> trailing, out JsonNode? result)
    {
        result = value;
        foreach (var segment in trailing)
        {
            if (result is not JsonObject o || !o.TryGetPropertyValue(segment, out result))
            {
                result = null;
                return false;
            }
        }
        return true;
    }

    private static List<JsonNode?> Elements(JsonNode? value) => value is JsonArray a ? [.. a] : [value];
}

/// Loose readers for temporal text stored in entities (observedAt, createdAt, DateTime-typed values).
internal static class TemporalText
{
    public static DateTimeOffset? DateTime(string s) =>
        s.Length >= 16 && s[10] == 'T' && char.IsAsciiDigit(s[0])
        && DateTimeOffset.TryParse(s, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var at)
            ? at
            : null;

    public static DateOnly? Date(string s) =>
        DateOnly.TryParseExact(s, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var d) ? d : null;

    public static TimeOnly? Time(string s)
    {
        var t = s.EndsWith('Z') ? s[..^1] : s;
        return TimeOnly.TryParseExact(t, ["HH:mm", "HH:mm:ss", "HH:mm:ss.FFFFFFF"], CultureInfo.InvariantCulture, DateTimeStyles.None, out var time) ? time : null;
    }
}
