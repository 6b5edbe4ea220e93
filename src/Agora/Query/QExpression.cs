using System.Text.Json.Nodes;
using Agora.JsonLd;

namespace Agora.Query;

/// A parsed q parameter (clause 4.9): the entry point for endpoints and subscriptions. Parse once per request,
/// then match each candidate entity; ToString gives the canonical text (for storing a subscription's q).
internal sealed record QExpression(QNode Root)
{
    /// Parses q as it arrives after percent-decoding. Throws BadRequestData (syntax) or TooComplexQuery (size).
    public static QExpression Parse(string q) => new(QParser.Parse(q));

    /// Exact evaluation against an entity in Agora's stored, expanded form; context expands the names of q.
    public bool Matches(JsonObject storedEntity, JsonLdContext context) => QEvaluator.Matches(Root, storedEntity, context);

    public override string ToString() => Root.ToString();
}
