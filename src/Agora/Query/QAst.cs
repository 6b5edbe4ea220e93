using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Agora.JsonLd;

namespace Agora.Query;

/// A node of a parsed NGSI-LD q expression (clause 4.9). Names are kept as written; they are terms of the
/// request's @context and become IRIs only through <see cref="QPath.ExpandedNames"/>. ToString renders the
/// canonical q text, which parses back to an equal tree.
internal abstract record QNode
{
    /// True when the stored entity (Agora's expanded form) satisfies this node.
    public bool Matches(System.Text.Json.Nodes.JsonObject entity, JsonLdContext context) => QEvaluator.Matches(this, entity, context);
}

/// All operands hold (andOp ';'). Always two or more operands; the parser never flattens a parenthesized group,
/// so the tree mirrors the text.
internal sealed record QAnd(ValueList<QNode> Operands) : QNode
{
    public override string ToString() => string.Join(";", Operands.Select(o => o is QAnd or QOr ? $"({o})" : o.ToString()));
}

/// At least one operand holds (orOp '|'). Two or more operands. ';' binds tighter than '|'.
internal sealed record QOr(ValueList<QNode> Operands) : QNode
{
    public override string ToString() => string.Join("|", Operands.Select(o => o is QOr ? $"({o})" : o.ToString()));
}

/// One Query Term: an attribute path, an operator and (except for Exists and NotExists) a value.
/// Which values go with which operator:
/// Equal/Unequal: any scalar, a <see cref="QRange"/> or a <see cref="QList"/>;
/// Greater/GreaterOrEqual/Less/LessOrEqual: QNumber, QString, QDateTime, QDate or QTime;
/// Pattern/NotPattern: <see cref="QRegex"/>; Exists/NotExists: null.
internal sealed record QTerm(QPath Path, QOperator Op, QValue? Value) : QNode
{
    public override string ToString() => Op switch
    {
        QOperator.Exists => Path.ToString(),
        QOperator.NotExists => "!" + Path,
        _ => Path + Operators.Text(Op) + Value,
    };
}

internal enum QOperator
{
    /// A bare path: the entity has the target element.
    Exists,
    /// "!path" (not in the spec's grammar, supported as Orion-LD and Stellio do): the entity lacks the target element.
    NotExists,
    Equal,
    Unequal,
    Greater,
    GreaterOrEqual,
    Less,
    LessOrEqual,
    /// "~=": the target value is a string that the regular expression matches (searching, not anchored).
    Pattern,
    /// "!~=": the target value is a string that the regular expression does not match.
    NotPattern,
}

internal static class Operators
{
    public static string Text(QOperator op) => op switch
    {
        QOperator.Equal => "==",
        QOperator.Unequal => "!=",
        QOperator.Greater => ">",
        QOperator.GreaterOrEqual => ">=",
        QOperator.Less => "<",
        QOperator.LessOrEqual => "<=",
        QOperator.Pattern => "~=",
        QOperator.NotPattern => "!~=",
        _ => "",
    };

    public static bool IsOrdering(QOperator op) => op is QOperator.Greater or QOperator.GreaterOrEqual or QOperator.Less or QOperator.LessOrEqual;
}

/// An attribute path: "a.b.c", "a.b.observedAt", "a[x.y]", "name[en]".
/// Names: the attribute (Names[0]) and then sub-attributes, as written (terms, expanded at evaluation).
/// Empty only for an entity-level system member ("createdAt", "modifiedAt" alone).
/// Metadata: a member of the target instance itself instead of its value: observedAt, unitCode, datasetId,
/// createdAt, modifiedAt or deletedAt (these names are core terms, so no user @context can redefine them).
/// TrailingPath: the bracketed part, never expanded. Into a Property or JsonProperty value it is a chain of JSON
/// member names (ECMAScript member access); on a LanguageProperty its single segment is a language tag, or "*"
/// for any language.
internal sealed record QPath(ValueList<string> Names, string? Metadata, ValueList<string> TrailingPath)
{
    public static readonly IReadOnlySet<string> MetadataNames = new HashSet<string>(StringComparer.Ordinal)
    {
        "observedAt", "unitCode", "datasetId", "createdAt", "modifiedAt", "deletedAt",
    };

    /// Names as IRIs: the keys of the attribute and sub-attributes in the stored entity.
    public IReadOnlyList<string> ExpandedNames(JsonLdContext context) => [.. Names.Select(context.ExpandTerm)];

    public override string ToString()
    {
        var sb = new StringBuilder(string.Join(".", Names));
        if (Metadata is not null)
        {
            sb.Append(Names.Count > 0 ? "." : "").Append(Metadata);
        }
        if (TrailingPath.Count > 0)
        {
            sb.Append('[').Append(string.Join(".", TrailingPath)).Append(']');
        }
        return sb.ToString();
    }
}

/// The right-hand side of a Query Term.
internal abstract record QValue;

/// A single value; all but QBool and QUri are ComparableValues (usable with ordering operators and in ranges).
internal abstract record QScalar : QValue
{
    public bool IsComparable => this is not (QBool or QUri);
}

/// A JSON number (RFC 8259 grammar), held as a double; integers beyond 2^53 lose precision.
internal sealed record QNumber(double Value) : QScalar
{
    public override string ToString() => Value.ToString("R", CultureInfo.InvariantCulture);
}

/// A quoted JSON string. Matches string values, and also Relationship objects and vocab IRIs by equality.
internal sealed record QString(string Value) : QScalar
{
    public override string ToString() => QuerySyntax.JsonString(Value);
}

internal sealed record QBool(bool Value) : QScalar
{
    public override string ToString() => Value ? "true" : "false";
}

/// An unquoted ISO 8601 date-time; compared as an instant (a missing offset means UTC).
internal sealed record QDateTime(DateTimeOffset Value) : QScalar
{
    public override string ToString() => Value.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.FFFFFFF'Z'", CultureInfo.InvariantCulture);
}

internal sealed record QDate(DateOnly Value) : QScalar
{
    public override string ToString() => Value.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
}

/// A time of day ("12:00:00", "12:00:00.5Z"); a trailing Z is accepted and dropped.
internal sealed record QTime(TimeOnly Value) : QScalar
{
    public override string ToString() => Value.ToString("HH:mm:ss.FFFFFFF", CultureInfo.InvariantCulture);
}

/// An unquoted URI or bare word (urn:ngsi-ld:City:Pisa, Male). Equality only: against Relationship objects,
/// strings, and vocab IRIs after expansion with the @context.
internal sealed record QUri(string Value) : QScalar
{
    public override string ToString() => Value;
}

/// "min..max", both bounds included; both of the same comparable kind.
internal sealed record QRange(QScalar Min, QScalar Max) : QValue
{
    public override string ToString() => $"{Min}..{Max}";
}

/// "v1,v2,...": two or more values; Equal means any of them.
internal sealed record QList(ValueList<QScalar> Items) : QValue
{
    public override string ToString() => string.Join(",", Items);
}

/// A regular expression, compiled once at parse time with the non-backtracking engine (linear time, so no
/// catastrophic backtracking) and a match timeout as a second guard. Equality is by pattern text.
internal sealed record QRegex(string Pattern) : QValue
{
    public static readonly TimeSpan Timeout = TimeSpan.FromMilliseconds(200);

    public Regex Compiled { get; } = new(Pattern, RegexOptions.NonBacktracking | RegexOptions.CultureInvariant, Timeout);

    public bool Equals(QRegex? other) => other is not null && other.Pattern == Pattern;

    public override int GetHashCode() => Pattern.GetHashCode(StringComparison.Ordinal);

    // Always quoted: an unquoted pattern ends at the first ';' or top-level '|' or ')', a quoted one never does.
    public override string ToString() => QuerySyntax.JsonString(Pattern);
}
