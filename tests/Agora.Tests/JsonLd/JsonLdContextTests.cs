using System.Text.Json.Nodes;
using Agora.Errors;
using Agora.JsonLd;

namespace Agora.Tests.JsonLd;

public sealed class JsonLdContextTests
{
    private const string Default = "https://uri.etsi.org/ngsi-ld/default-context/";
    private const string NgsiLd = "https://uri.etsi.org/ngsi-ld/";

    [Fact]
    public void CoreExpandsCoreTermsAndDefaultVocab()
    {
        var core = JsonLdContext.Core;
        Assert.Equal(NgsiLd + "Property", core.ExpandTerm("Property"));
        Assert.Equal(NgsiLd + "hasValue", core.ExpandTerm("value"));
        Assert.Equal("@id", core.ExpandTerm("id"));
        Assert.Equal("@type", core.ExpandTerm("type"));
        Assert.Equal(NgsiLd + "location", core.ExpandTerm("location"));
        Assert.Equal(Default + "temperature", core.ExpandTerm("temperature"));
        Assert.Equal("https://purl.org/geojson/vocab#Point", core.ExpandTerm("Point"));
    }

    [Fact]
    public void CoreCompactsBackToTermsAndVocabNames()
    {
        var core = JsonLdContext.Core;
        Assert.Equal("Property", core.CompactIri(NgsiLd + "Property"));
        Assert.Equal("temperature", core.CompactIri(Default + "temperature"));
        Assert.Equal("id", core.CompactIri("@id"));
        Assert.Equal("ngsi-ld:somethingNew", core.CompactIri(NgsiLd + "somethingNew"));
        Assert.Equal("http://example.org/x", core.CompactIri("http://example.org/x"));
    }

    [Fact]
    public void CoreResponseContextAndLinkAreTheCoreUrl()
    {
        Assert.Equal(JsonLdContext.CoreUrl, JsonLdContext.Core.LinkUrl);
        Assert.Equal(JsonLdContext.CoreUrl, (string?)JsonLdContext.Core.ResponseContext);
        Assert.NotSame(JsonLdContext.Core.ResponseContext, JsonLdContext.Core.ResponseContext);
    }

    [Fact]
    public void UserTermsExpandAndCompact()
    {
        var ctx = TestContexts.Build("""{"Building": "https://example.org/Building", "name": "https://schema.org/name"}""");
        Assert.Equal("https://example.org/Building", ctx.ExpandTerm("Building"));
        Assert.Equal("Building", ctx.CompactIri("https://example.org/Building"));
        Assert.Equal("https://schema.org/name", ctx.ExpandTerm("name"));
    }

    [Fact]
    public void CoreTermsWinOverUserTerms()
    {
        var ctx = TestContexts.Build("""{"Property": "https://example.org/NotAProperty", "location": "https://example.org/where"}""");
        Assert.Equal(NgsiLd + "Property", ctx.ExpandTerm("Property"));
        Assert.Equal(NgsiLd + "location", ctx.ExpandTerm("location"));
    }

    [Fact]
    public void CompactIrisUsePrefixTerms()
    {
        var ctx = TestContexts.Build("""{"ex": "https://example.org/ns#", "speed": "ex:speed", "fuel": {"@id": "ex:fuel", "@type": "@id"}}""");
        Assert.Equal("https://example.org/ns#speed", ctx.ExpandTerm("speed"));
        Assert.Equal("https://example.org/ns#other", ctx.ExpandTerm("ex:other"));
        Assert.Equal("ex:other", ctx.CompactIri("https://example.org/ns#other"));
        Assert.Equal("speed", ctx.CompactIri("https://example.org/ns#speed"));
        Assert.Equal("https://example.org/ns#thing", ctx.ExpandIri("ex:thing"));
        Assert.Equal("ex:thing", ctx.CompactId("https://example.org/ns#thing"));
        Assert.Equal("speed", ctx.ExpandIri("speed"));
        Assert.Equal("urn:ngsi-ld:Vehicle:1", ctx.ExpandIri("urn:ngsi-ld:Vehicle:1"));
        Assert.Equal("urn:ngsi-ld:Vehicle:1", ctx.CompactId("urn:ngsi-ld:Vehicle:1"));
    }

    [Fact]
    public void TermsDefinedThroughOtherTermsAreResolvedInAnyOrder()
    {
        var ctx = TestContexts.Build("""{"a": "b", "b": "ex:b", "ex": "https://example.org/"}""");
        Assert.Equal("https://example.org/b", ctx.ExpandTerm("a"));
    }

    [Fact]
    public void UserVocabWinsOverCoreVocab()
    {
        var ctx = TestContexts.Build("""{"@vocab": "https://example.org/vocab/"}""");
        Assert.Equal("https://example.org/vocab/temperature", ctx.ExpandTerm("temperature"));
        Assert.Equal("temperature", ctx.CompactIri("https://example.org/vocab/temperature"));
        Assert.Equal(NgsiLd + "Property", ctx.ExpandTerm("Property"));
    }

    [Fact]
    public void RelativeVocabExtendsTheVocabInForce()
    {
        var ctx = TestContexts.Build("""[{"@vocab": "https://example.org/"}, {"@vocab": "sub/"}]""");
        Assert.Equal("https://example.org/sub/x", ctx.ExpandTerm("x"));
        var empty = TestContexts.Build("""{"@vocab": ""}""");
        Assert.Equal(Default + "x", empty.ExpandTerm("x"));
    }

    [Fact]
    public void NullResetsEarlierContexts()
    {
        var ctx = TestContexts.Build("""[{"a": "https://example.org/a", "@vocab": "https://example.org/"}, null, {"b": "https://example.org/b"}]""");
        Assert.Equal(Default + "a", ctx.ExpandTerm("a"));
        Assert.Equal("https://example.org/b", ctx.ExpandTerm("b"));
    }

    [Fact]
    public void CoreUrlInsideUserContextDefinesItsPrefixes()
    {
        var ctx = TestContexts.Build($$"""["{{JsonLdContext.CoreUrl}}", {"mine": "ngsi-ld:mine"}]""");
        Assert.Equal(NgsiLd + "mine", ctx.ExpandTerm("mine"));
    }

    [Fact]
    public void DefinitionOfShowsCoercionsOfUserAndCoreTerms()
    {
        var ctx = TestContexts.Build("""{"owner": {"@id": "https://example.org/owner", "@type": "@id"}, "kind": {"@id": "https://example.org/kind", "@type": "@vocab"}, "tags": {"@id": "https://example.org/tags", "@container": "@list"}, "ts": {"@id": "https://example.org/ts", "@type": "DateTime"}}""");
        Assert.Equal("@id", ctx.DefinitionOf("https://example.org/owner")?.TypeCoercion);
        Assert.Equal("@vocab", ctx.DefinitionOf("https://example.org/kind")?.TypeCoercion);
        Assert.Equal("@list", ctx.DefinitionOf("https://example.org/tags")?.Container);
        Assert.Equal(NgsiLd + "DateTime", ctx.DefinitionOf("https://example.org/ts")?.TypeCoercion);
        Assert.Equal("@id", ctx.DefinitionOf(NgsiLd + "hasObject")?.TypeCoercion);
        Assert.Equal(NgsiLd + "DateTime", ctx.DefinitionOf(NgsiLd + "observedAt")?.TypeCoercion);
        Assert.Null(ctx.DefinitionOf(Default + "unknown"));
    }

    [Fact]
    public void ShortestTermIsPickedForAnIri()
    {
        var ctx = TestContexts.Build("""{"longName": "https://example.org/x", "b": "https://example.org/x", "a": "https://example.org/x"}""");
        Assert.Equal("a", ctx.CompactIri("https://example.org/x"));
    }

    [Fact]
    public void ProtectedAndVersionAreAccepted()
    {
        var ctx = TestContexts.Build("""{"@version": 1.1, "@protected": true, "x": {"@id": "https://example.org/x", "@protected": true}}""");
        Assert.Equal("https://example.org/x", ctx.ExpandTerm("x"));
    }

    [Theory]
    [InlineData("42")]
    [InlineData("true")]
    [InlineData("""{"x": 5}""")]
    [InlineData("""{"x": "@context"}""")]
    [InlineData("""{"@id": "https://example.org/"}""")]
    [InlineData("""{"x": {"@id": "https://example.org/x", "@container": "@bogus"}}""")]
    [InlineData("""{"x": {"@id": "https://example.org/x", "@type": 3}}""")]
    [InlineData("""{"a": "b", "b": "a"}""")]
    [InlineData("""{"@version": 1.0}""")]
    [InlineData("""{"@vocab": 5}""")]
    public void InvalidContextsAreRejectedAsInvalidRequest(string json)
    {
        var e = Assert.Throws<NgsiLdException>(() => TestContexts.Build(json));
        Assert.Equal(ErrorTypes.InvalidRequest, e.Type);
    }

    [Fact]
    public void ResponseContextIsWhatTheClientGave()
    {
        var ctx = TestContexts.Build("""[{"a": "https://example.org/a"}]""");
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""[{"a": "https://example.org/a"}]"""), ctx.ResponseContext));
    }
}
