using System.Net;
using System.Text.Json.Nodes;
using Agora.Tests.JsonLd;
using Microsoft.AspNetCore.Http;
using static Agora.Tests.AgoraApplication;
using static Agora.Tests.NgsiLdAssert;

namespace Agora.Tests.Entities;

/// A body that is not JSON is InvalidRequest (ETSI GS CIM 009 V1.9.1 clause 5.5.2: "the request associated to the
/// operation is syntactically invalid"), said so that a person finds the fault: where it is, as line and column,
/// and what it is, without the parser's advice to programmers. Every body is parsed in one place, so every
/// operation that takes one answers alike.
public sealed class MalformedJsonTests
{
    private const string ContextsPath = "/ngsi-ld/v1/jsonldContexts";

    [Theory]
    [InlineData("{\"id\": }", 1, 8, "invalid start of a value")]
    [InlineData("{\"id\": \"urn:a:b\",}", 1, 18, "trailing comma")]
    [InlineData("{\"id\": \"urn:a:b\",\n  \"type\": \"Bâtiment\", \"floors\": 01}", 2, 34, "leading zero")]
    [InlineData("{\"id\": \"urn:a:b\", \"type\": \"T\"", 1, 30, "should be closed")]
    public async Task AMalformedBodyIsInvalidRequestNamingLineAndColumn(string body, int line, int column, string what)
    {
        await using var app = new AgoraApplication();
        using var client = app.CreateClient();

        foreach (var path in (string[])[EntitiesPath, "/ngsi-ld/v1/entityOperations/create", "/ngsi-ld/v1/subscriptions", "/ngsi-ld/v1/temporal/entities", ContextsPath])
        {
            using var response = await client.PostAsync(path, Json(body));

            var detail = (string?)(await ProblemAsync(response, HttpStatusCode.BadRequest, "InvalidRequest"))["detail"];
            Assert.StartsWith($"The body is not valid JSON at line {line}, column {column}: ", detail);
            Assert.Contains(what, detail);
            Assert.DoesNotContain("reader options", detail);
            Assert.DoesNotContain("LineNumber", detail);
            Assert.DoesNotContain("BytePositionInLine", detail);
        }
        await AssertNothingWrittenAsync(client);
    }

    [Fact]
    public async Task AMemberNamedTwiceIsInvalidRequestNamingIt()
    {
        await using var app = new AgoraApplication();
        using var client = app.CreateClient();

        using var response = await client.PostAsync(EntitiesPath, Json("""{"id": "urn:ngsi-ld:Building:1", "type": "Building", "height": 1, "height": 2}"""));

        var detail = (string?)(await ProblemAsync(response, HttpStatusCode.BadRequest, "InvalidRequest"))["detail"];
        Assert.Equal("The body is not valid JSON: an object names the member \"height\" twice.", detail);
        await AssertNothingWrittenAsync(client);
    }

    /// A term defined twice in one object of an inline @context could mean either IRI: refused, whether the
    /// @context comes with an entity or is added to the broker (clause 5.13.2).
    [Fact]
    public async Task AnAtContextDefiningATermTwiceInOneObjectIsRefused()
    {
        await using var app = new AgoraApplication();
        using var client = app.CreateClient();
        const string twice = """{"height": "https://example.org/height", "height": "https://example.org/altitude"}""";

        using var entity = await client.PostAsync(EntitiesPath, Json($$"""{"id": "urn:ngsi-ld:Building:1", "type": "Building", "height": 1, "@context": {{twice}}}""", "application/ld+json"));
        using var hosted = await client.PostAsync(ContextsPath, Json($$"""{"@context": {{twice}}}"""));

        foreach (var response in new[] { entity, hosted })
        {
            var detail = (string?)(await ProblemAsync(response, HttpStatusCode.BadRequest, "InvalidRequest"))["detail"];
            Assert.Contains("\"height\" twice", detail);
        }
        await AssertNothingWrittenAsync(client);
    }

    /// JSON-LD processes an array of contexts in order, a later definition replacing an earlier one: that is no
    /// error, and the last definition wins.
    [Fact]
    public async Task AnArrayOfContextsRedefiningATermTakesTheLastDefinition()
    {
        await using var app = new AgoraApplication();
        using var client = app.CreateClient();

        using var created = await client.PostAsync(EntitiesPath, Json("""
            {"id": "urn:ngsi-ld:Building:1", "type": "Building", "height": 1,
             "@context": [{"height": "https://example.org/height"}, {"height": "https://example.org/altitude"}]}
            """, "application/ld+json"));

        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var expanded = await app.RetrieveAsync("urn:ngsi-ld:Building:1");
        Assert.NotNull(expanded["https://example.org/altitude"]);
        Assert.Null(expanded["https://example.org/height"]);
    }

    /// A remote @context whose document names a term twice cannot be used: the request fails with the reason,
    /// never with a server error, and writes nothing.
    [Fact]
    public async Task ARemoteAtContextDefiningATermTwiceFailsWithItsReason()
    {
        await using var server = await ContextServer.StartAsync(http =>
            http.Response.WriteAsync("""{"@context": {"height": "https://example.org/height", "height": "https://example.org/altitude"}}"""));
        await using var app = new AgoraApplication();
        using var client = app.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, EntitiesPath) { Content = Json("""{"id": "urn:ngsi-ld:Building:1", "type": "Building", "height": 1}""") };
        request.Headers.Add("Link", $"<{server.BaseUrl}/twice.jsonld>; rel=\"http://www.w3.org/ns/json-ld#context\"; type=\"application/ld+json\"");

        using var response = await client.SendAsync(request);

        var problem = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.NotEqual(HttpStatusCode.InternalServerError, response.StatusCode);
        Assert.Equal(ErrorTypes + "LdContextNotAvailable", (string?)problem["type"]);
        Assert.Contains("\"height\" twice", (string?)problem["detail"]);
        await AssertNothingWrittenAsync(client);
    }

    private static async Task AssertNothingWrittenAsync(HttpClient client)
    {
        using var entities = await client.GetAsync(EntitiesPath + "?type=Building,T&local=true");
        Assert.Equal("[]", await entities.Content.ReadAsStringAsync());
        using var contexts = await client.GetAsync(ContextsPath + "?kind=Hosted");
        Assert.Equal("[]", await contexts.Content.ReadAsStringAsync());
        using var subscriptions = await client.GetAsync("/ngsi-ld/v1/subscriptions");
        Assert.Equal("[]", await subscriptions.Content.ReadAsStringAsync());
    }
}
