using System.Text.Json.Nodes;
using Agora.Errors;
using Agora.JsonLd;
using Agora.Query;
using CsCheck;

namespace Agora.Tests.Query;

/// Round trips (AST → canonical text → equal AST) and hostile input for q, type selection and scopeQ.
public sealed class QueryPropertyTests
{
    private const string Letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZéß名";
    private const string NameChars = Letters + "0123456789_";

    private static readonly Gen<string> Name =
        Gen.Select(Gen.Char[Letters], Gen.String[Gen.Char[NameChars], 0, 8], Gen.Bool, (first, rest, prefixed) => prefixed ? "ex:" + first + rest : first + rest)
            .Where(n => !QPath.MetadataNames.Contains(n));

    private static readonly Gen<string> Segment = Gen.OneOf(Gen.Const("*"), Gen.String[Gen.Char[NameChars + "-"], 1, 8]);

    private static readonly Gen<QPath> Path = Gen.Frequency(
        (4, Gen.Select(Name.Array[1, 3], Segment.Array[0, 2], (names, trailing) => new QPath(names, null, trailing))),
        (1, Gen.Select(Name.Array[1, 2], Gen.OneOf([.. QPath.MetadataNames]), (names, meta) => new QPath(names, meta, []))),
        (1, Gen.OneOf("createdAt", "modifiedAt", "deletedAt").Select(meta => new QPath([], meta, []))));

    private static readonly Gen<QScalar> Comparable = Gen.OneOf<QScalar>(
        Gen.Double.Where(double.IsFinite).Select(d => (QScalar)new QNumber(d)),
        Gen.Int.Select(i => (QScalar)new QNumber(i)),
        Gen.String.Select(s => (QScalar)new QString(s)),
        Gen.Long[DateTime.MinValue.Ticks, DateTime.MaxValue.Ticks].Select(t => (QScalar)new QDateTime(new DateTimeOffset(t, TimeSpan.Zero))),
        Gen.Int[DateOnly.MinValue.DayNumber, DateOnly.MaxValue.DayNumber].Select(d => (QScalar)new QDate(DateOnly.FromDayNumber(d))),
        Gen.Long[0, TimeOnly.MaxValue.Ticks].Select(t => (QScalar)new QTime(new TimeOnly(t))));

    private static readonly Gen<QScalar> Uri =
        Gen.Select(Gen.Char[Letters], Gen.String[Gen.Char[NameChars + ":/.-#?=&%+(!*'@~"], 0, 20], (first, rest) => first + rest)
            .Where(u => u is not ("true" or "false"))
            .Select(u => (QScalar)new QUri(u));

    private static readonly Gen<QScalar> Scalar = Gen.Frequency((4, Comparable), (1, Gen.Bool.Select(b => (QScalar)new QBool(b))), (2, Uri));

    private static readonly Gen<QValue> Range = Comparable.SelectMany(min => Comparable.Where(max => max.GetType() == min.GetType()).Select(max => (QValue)new QRange(min, max)));

    private static readonly string[] Patterns = ["a|b", "^x$", "(?i)foo", "[;|)]", "a\"b", "\\d+", "(a|b);c", "é+", "\\\\"];

    private static readonly Gen<QTerm> Term = Gen.Frequency(
        (1, Path.Select(p => new QTerm(p, QOperator.Exists, null))),
        (1, Path.Select(p => new QTerm(p, QOperator.NotExists, null))),
        (3, Gen.Select(Path, Gen.OneOf(QOperator.Equal, QOperator.Unequal), Gen.Frequency(
            (3, Scalar.Select(s => (QValue)s)),
            (1, Range),
            (1, Scalar.Array[2, 4].Select(items => (QValue)new QList(items)))),
            (p, op, v) => new QTerm(p, op, v))),
        (2, Gen.Select(Path, Gen.OneOf(QOperator.Greater, QOperator.GreaterOrEqual, QOperator.Less, QOperator.LessOrEqual), Comparable,
            (p, op, v) => new QTerm(p, op, v))),
        (1, Gen.Select(Path, Gen.OneOf(QOperator.Pattern, QOperator.NotPattern), Gen.OneOf(Patterns),
            (p, op, pattern) => new QTerm(p, op, new QRegex(pattern)))));

    private static Gen<QNode> Node(int depth) => depth == 0
        ? Term.Select(t => (QNode)t)
        : Gen.Frequency(
            (3, Term.Select(t => (QNode)t)),
            (1, Node(depth - 1).Array[2, 3].Select(ops => (QNode)new QAnd(ops))),
            (1, Node(depth - 1).Array[2, 3].Select(ops => (QNode)new QOr(ops))));

    [Fact]
    public void GeneratedQTreesRoundTripThroughTheirText()
    {
        Node(3).Sample(node =>
        {
            var text = node.ToString()!;
            if (text.Length > QuerySyntax.MaxLength)
            {
                return;
            }
            Assert.Equal(node, QExpression.Parse(text).Root);
        }, iter: 2000);
    }

    private const string Hostile = "()[].;|,!=<>~\"\\*-+/:0123456789eE.TZaAbn_ éΩ\u0000\u001f\u202e\ud800";

    private static readonly Gen<string> HostileText = Gen.Frequency(
        (3, Gen.String[Gen.Char[Hostile], 0, 40]),
        (1, Gen.String[Gen.Char, 0, 40]),
        (1, Gen.String[Gen.Char[Hostile], 4000, 5000]),
        // Near-valid input: canonical text with one character replaced.
        (3, Gen.Select(Node(2), Gen.Int[0, 1000], Gen.Char[Hostile], (node, at, c) =>
        {
            var text = node.ToString()!;
            var i = at % Math.Max(1, text.Length);
            return text.Length == 0 ? text : text[..i] + c + text[(i + 1)..];
        })),
        (1, Gen.Int[1, 3000].Select(n => new string('(', n) + "a" + new string(')', n))),
        (1, Gen.Int[1, 400].Select(n => "a==" + new string('9', n) + "e" + new string('9', n))),
        (1, Gen.OneOf("a~=(a+)+$", "a~=(a|aa)*b", "a~=\"(x{1000}){1000}\"", "a~=\"a{2147483647}\"", "a~=[[:alpha:]]", "a~=\\")));

    private static readonly JsonObject Entity = (JsonObject)JsonNode.Parse("""
    {
      "id": "urn:x:1", "type": ["https://example.org/T"], "scope": ["/a/b"], "createdAt": "2024-01-01T00:00:00Z",
      "https://uri.etsi.org/ngsi-ld/default-context/a": [
        { "type": "Property", "value": "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!", "observedAt": "2024-01-01T00:00:00Z" },
        { "type": "LanguageProperty", "languageMap": { "en": "x" }, "datasetId": "urn:d:1" },
        { "type": "Relationship", "object": ["urn:a", "urn:b"], "datasetId": "urn:d:2" },
        { "type": "JsonProperty", "json": { "b": { "c": [1, null] } }, "datasetId": "urn:d:3" }
      ]
    }
    """)!;

    private static void OnlyQueryErrors(Action action)
    {
        try
        {
            action();
        }
        catch (NgsiLdException e) when (e.Type is ErrorTypes.BadRequestData or ErrorTypes.TooComplexQuery)
        {
            Assert.False(string.IsNullOrEmpty(e.Detail));
        }
    }

    [Fact]
    public void HostileQTextFailsOnlyWithQueryErrors()
    {
        HostileText.Sample(text => OnlyQueryErrors(() =>
        {
            var q = QExpression.Parse(text);
            // Whatever parses also round-trips and evaluates without throwing anything else.
            Assert.Equal(q, QExpression.Parse(q.ToString()));
            q.Matches(Entity, JsonLdContext.Core);
        }), iter: 3000);
    }

    private static readonly Gen<string> TypeName = Gen.OneOf(
        Gen.Select(Gen.Char[Letters], Gen.String[Gen.Char[NameChars + "-.:/"], 0, 10], (f, r) => f + r),
        Gen.String[Gen.Char["abc"], 1, 5].Select(s => $"https://example.org/context#{s}"));

    private static Gen<TypeNode> Types(int depth) => depth == 0
        ? TypeName.Select(n => (TypeNode)new TypeName(n))
        : Gen.Frequency(
            (3, TypeName.Select(n => (TypeNode)new TypeName(n))),
            (1, Types(depth - 1).Array[2, 3].Select(ops => (TypeNode)new TypeAnd(ops))),
            (1, Types(depth - 1).Array[2, 3].Select(ops => (TypeNode)new TypeOr(ops))));

    [Fact]
    public void GeneratedTypeSelectionsRoundTripThroughTheirText()
    {
        Types(3).Sample(node => Assert.Equal(node, TypeSelection.Parse(node.ToString()!).Root), iter: 1000);
    }

    [Fact]
    public void HostileTypeSelectionTextFailsOnlyWithQueryErrors()
    {
        HostileText.Sample(text => OnlyQueryErrors(() =>
        {
            var t = TypeSelection.Parse(text);
            Assert.Equal(t, TypeSelection.Parse(t.ToString()));
            t.Matches(["https://example.org/T"], JsonLdContext.Core);
            t.SimpleTypes(JsonLdContext.Core);
        }), iter: 2000);
    }

    private static readonly Gen<string> Level = Gen.Frequency(
        (4, Gen.String[Gen.Char[NameChars + "-.:"], 1, 6]),
        (1, Gen.Const("+")));

    private static readonly Gen<ScopePattern> Pattern =
        Gen.Select(Level.Array[1, 4], Gen.Bool, (levels, hash) => new ScopePattern(hash ? [.. levels, "#"] : levels));

    private static Gen<ScopeNode> Scopes(int depth) => depth == 0
        ? Pattern.Select(p => (ScopeNode)p)
        : Gen.Frequency(
            (3, Pattern.Select(p => (ScopeNode)p)),
            (1, Scopes(depth - 1).Array[2, 3].Select(ops => (ScopeNode)new ScopeAnd(ops))),
            (1, Scopes(depth - 1).Array[2, 3].Select(ops => (ScopeNode)new ScopeOr(ops))));

    [Fact]
    public void GeneratedScopeQueriesRoundTripThroughTheirText()
    {
        Scopes(3).Sample(node => Assert.Equal(node, ScopeQuery.Parse(node.ToString()!).Root), iter: 1000);
    }

    [Fact]
    public void HostileScopeQueryTextFailsOnlyWithQueryErrors()
    {
        HostileText.Select(t => "/" + t).Sample(text => OnlyQueryErrors(() =>
        {
            var s = ScopeQuery.Parse(text);
            Assert.Equal(s, ScopeQuery.Parse(s.ToString()));
            s.Matches(["/a/b", "/c"]);
        }), iter: 2000);
    }
}
