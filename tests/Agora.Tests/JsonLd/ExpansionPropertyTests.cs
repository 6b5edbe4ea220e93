using System.Text.Json.Nodes;
using Agora.JsonLd;
using CsCheck;

namespace Agora.Tests.JsonLd;

public sealed class ExpansionPropertyTests
{
    private static readonly Gen<string> Name = Gen.String[Gen.Char["abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-"], 1, 12]
        .Where(s => char.IsAsciiLetter(s[0]));

    private static readonly string[] Vocabs = ["", "https://example.org/vocab/", "https://example.org/v#", "urn:x:"];
    private static readonly Gen<string> Vocab = Gen.Int[0, Vocabs.Length - 1].Select(k => Vocabs[k]);

    /// A random user context: distinct term names with distinct IRIs, optionally a prefix and a @vocab. Core term
    /// names are avoided: the core wins for them, by design.
    private static readonly Gen<(JsonObject Context, Dictionary<string, string> Terms)> Context =
        Gen.Select(Name.HashSet[0, 12], Vocab, Gen.Bool).Select((names, vocab, withPrefix) =>
        {
            var context = new JsonObject();
            var terms = new Dictionary<string, string>();
            if (vocab.Length > 0)
            {
                context["@vocab"] = vocab;
            }
            if (withPrefix)
            {
                context["pfx"] = "https://prefix.example.org/";
            }
            var i = 0;
            foreach (var name in names.Where(n => !CoreTerms.Of(CoreVersions.V18).ContainsKey(n) && n != "pfx"))
            {
                var iri = withPrefix && i % 2 == 0 ? $"pfx:t{i}/{name}" : $"https://terms.example.org/{i}/{name}";
                context[name] = iri;
                terms[name] = iri.Replace("pfx:", "https://prefix.example.org/", StringComparison.Ordinal);
                i++;
            }
            return (context, terms);
        });

    [Fact]
    public void CompactingAnExpandedTermGivesTheTermBack()
    {
        Gen.Select(Context, Name).Sample((c, other) =>
        {
            var ctx = TestContexts.Build(c.Context.ToJsonString());
            foreach (var (term, iri) in c.Terms)
            {
                Assert.Equal(iri, ctx.ExpandTerm(term));
                Assert.Equal(term, ctx.CompactIri(ctx.ExpandTerm(term)));
            }
            // A vocab-relative name that is no term comes back as itself.
            if (!c.Terms.ContainsKey(other) && !CoreTerms.Of(CoreVersions.V18).ContainsKey(other) && other != "pfx")
            {
                Assert.Equal(other, ctx.CompactIri(ctx.ExpandTerm(other)));
            }
        }, iter: 300);
    }

    private static readonly string[] Bases = ["https://terms.example.org/0/", "https://prefix.example.org/", "https://example.org/vocab/", "https://example.org/v#", "urn:x:", "https://uri.etsi.org/ngsi-ld/", "https://uri.etsi.org/ngsi-ld/default-context/", "http://other.example/"];

    [Fact]
    public void ExpandingACompactedIriGivesTheIriBack()
    {
        var iri = Gen.Select(Gen.Int[0, Bases.Length - 1].Select(k => Bases[k]),
            Gen.String[Gen.Char["abcxyz:/#0-_"], 0, 10]).Select((a, b) => a + b);
        Gen.Select(Context, iri).Sample((c, i) =>
        {
            var ctx = TestContexts.Build(c.Context.ToJsonString());
            Assert.Equal(i, ctx.ExpandTerm(ctx.CompactIri(i)));
            Assert.Equal(i, ctx.ExpandIri(ctx.CompactId(i)));
        }, iter: 500);
    }
}
