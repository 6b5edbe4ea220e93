using System.Net;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using static Agora.Tests.AgoraApplication;
using static Agora.Tests.NgsiLdAssert;

namespace Agora.Tests.Entities;

/// Entities are stored expanded: what a client wrote with its @context reads back in any other client's terms.
public sealed class ContextTests
{
    private const string Id = "urn:ngsi-ld:Building:1";
    private const string Vocab = "https://example.org/vocab#";

    private static readonly Dictionary<string, string> Contexts = new()
    {
        ["writer.jsonld"] = $$$"""{"Bldg": "{{{Vocab}}}Building", "temp": "{{{Vocab}}}temperature", "landlord": "{{{Vocab}}}owner"}""",
        ["reader.jsonld"] = $$$"""{"Building": "{{{Vocab}}}Building", "temperature": "{{{Vocab}}}temperature", "owner": "{{{Vocab}}}owner"}""",
        ["prefix.jsonld"] = $$$"""{"ex": "{{{Vocab}}}"}""",
    };

    private static async Task<HttpResponseMessage> SendAsync(AgoraApplication app, HttpMethod method, string path, string? link, string? body = null)
    {
        using var client = app.CreateClient();
        using var request = new HttpRequestMessage(method, path);
        if (link is not null)
        {
            request.Headers.TryAddWithoutValidation("Link", link);
        }
        if (body is not null)
        {
            request.Content = Json(body);
        }
        return await client.SendAsync(request);
    }

    private static async Task<JsonObject> ReadAsync(AgoraApplication app, string? link, string query = "")
    {
        using var response = await SendAsync(app, HttpMethod.Get, EntityPath(Id) + query, link);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject();
    }

    private const string Written = """{"id": "urn:ngsi-ld:Building:1", "type": "Bldg", "temp": 21, "landlord": {"object": "urn:ngsi-ld:Person:1"}}""";

    [Fact]
    public async Task AnEntityWrittenWithItsContextReadsBackTheSameWithThatContext()
    {
        await using var contexts = await ContextSite.StartAsync(Contexts);
        await using var app = new AgoraApplication();
        using var created = await SendAsync(app, HttpMethod.Post, EntitiesPath, contexts.Link("writer.jsonld"), Written);

        var entity = await ReadAsync(app, contexts.Link("writer.jsonld"));

        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        JsonEqual("""
            {"id": "urn:ngsi-ld:Building:1", "type": "Bldg", "temp": {"type": "Property", "value": 21},
             "landlord": {"type": "Relationship", "object": "urn:ngsi-ld:Person:1"}}
            """, entity);
    }

    [Fact]
    public async Task AnEntityWrittenWithOneContextReadsInTheTermsOfAnother()
    {
        await using var contexts = await ContextSite.StartAsync(Contexts);
        await using var app = new AgoraApplication();
        using var created = await SendAsync(app, HttpMethod.Post, EntitiesPath, contexts.Link("writer.jsonld"), Written);

        var entity = await ReadAsync(app, contexts.Link("reader.jsonld"));

        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        JsonEqual("""
            {"id": "urn:ngsi-ld:Building:1", "type": "Building", "temperature": {"type": "Property", "value": 21},
             "owner": {"type": "Relationship", "object": "urn:ngsi-ld:Person:1"}}
            """, entity);
    }

    [Fact]
    public async Task WithoutAContextUserTermsReadAsFullIris()
    {
        await using var contexts = await ContextSite.StartAsync(Contexts);
        await using var app = new AgoraApplication();
        using var created = await SendAsync(app, HttpMethod.Post, EntitiesPath, contexts.Link("writer.jsonld"), Written);

        var entity = await ReadAsync(app, link: null);

        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal(Vocab + "Building", (string?)entity["type"]);
        Assert.Equal(21, (int)entity[Vocab + "temperature"]!["value"]!);
    }

    [Fact]
    public async Task CompactIrisAreExpandedOnWriteAndCompactedOnRead()
    {
        await using var contexts = await ContextSite.StartAsync(Contexts);
        await using var app = new AgoraApplication();
        using var created = await SendAsync(app, HttpMethod.Post, EntitiesPath, contexts.Link("prefix.jsonld"),
            """{"id": "urn:ngsi-ld:Building:1", "type": "ex:Building", "ex:temperature": 21}""");

        var asTerms = await ReadAsync(app, contexts.Link("reader.jsonld"));
        var asCompactIris = await ReadAsync(app, contexts.Link("prefix.jsonld"));

        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal("Building", (string?)asTerms["type"]);
        Assert.Equal(21, (int)asTerms["temperature"]!["value"]!);
        Assert.Equal("ex:Building", (string?)asCompactIris["type"]);
        Assert.Equal(21, (int)asCompactIris["ex:temperature"]!["value"]!);
    }

    [Fact]
    public async Task AttributeOperationsNameAttributesInTheRequestContext()
    {
        await using var contexts = await ContextSite.StartAsync(Contexts);
        await using var app = new AgoraApplication();
        using var created = await SendAsync(app, HttpMethod.Post, EntitiesPath, contexts.Link("writer.jsonld"), Written);

        using var patched = await SendAsync(app, HttpMethod.Patch, AttrPath(Id, "temperature"), contexts.Link("reader.jsonld"), """{"value": 25}""");
        using var deleted = await SendAsync(app, HttpMethod.Delete, AttrPath(Id, "owner"), contexts.Link("reader.jsonld"));
        var entity = await ReadAsync(app, contexts.Link("writer.jsonld"));

        Assert.Equal(HttpStatusCode.NoContent, patched.StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        Assert.Equal(25, (int)entity["temp"]!["value"]!);
        Assert.False(entity.ContainsKey("landlord"));
    }

    [Fact]
    public async Task AnLdJsonBodyCarriesItsOwnContext()
    {
        await using var contexts = await ContextSite.StartAsync(Contexts);
        await using var app = new AgoraApplication();
        using var client = app.CreateClient();
        var body = JsonNode.Parse(Written)!.AsObject();
        body["@context"] = new JsonArray(contexts.Url("writer.jsonld"), "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.8.jsonld");

        using var created = await client.PostAsync(EntitiesPath, Json(body.ToJsonString(), "application/ld+json"));
        var entity = await ReadAsync(app, contexts.Link("reader.jsonld"));

        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal(21, (int)entity["temperature"]!["value"]!);
    }

    [Fact]
    public async Task AContextThatCannotBeFetchedIsLdContextNotAvailable()
    {
        await using var contexts = await ContextSite.StartAsync(Contexts);
        await using var app = new AgoraApplication();

        using var response = await SendAsync(app, HttpMethod.Post, EntitiesPath, contexts.Link("missing.jsonld"), Written);
        using var read = await SendAsync(app, HttpMethod.Get, EntityPath(Id), link: null);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal(ErrorTypes + "LdContextNotAvailable", (string?)JsonNode.Parse(await response.Content.ReadAsStringAsync())!["type"]);
        Assert.Equal(HttpStatusCode.NotFound, read.StatusCode);
    }

    // A context is fetched over http(s) only: any other URL is the client's error, not an unreachable server.
    // ("/path" parses on Linux as an absolute file: URI, which the hostile-input test found answering 503.)
    [Theory]
    [InlineData("/a/b.jsonld")]
    [InlineData("file:///etc/passwd")]
    [InlineData("ftp://example.org/context.jsonld")]
    public async Task AContextUrlThatIsNotHttpIsBadRequestData(string url)
    {
        await using var app = new AgoraApplication();
        await app.CreateEntityAsync(Written);
        using var client = app.CreateClient();
        using var inBody = new HttpRequestMessage(HttpMethod.Post, EntitiesPath)
        {
            Content = Json($$"""{"id": "urn:ngsi-ld:Building:2", "type": "Building", "@context": ["{{url}}"]}""", "application/ld+json"),
        };

        using var read = await SendAsync(app, HttpMethod.Get, EntityPath(Id), $"<{url}>; rel=\"http://www.w3.org/ns/json-ld#context\"; type=\"application/ld+json\"");
        using var written = await client.SendAsync(inBody);

        await ProblemAsync(read, HttpStatusCode.BadRequest, "BadRequestData");
        await ProblemAsync(written, HttpStatusCode.BadRequest, "BadRequestData");
    }

    /// A local web server that serves user @context documents, as a data provider's site would.
    private sealed class ContextSite : IAsyncDisposable
    {
        private readonly WebApplication _app;

        private ContextSite(WebApplication app) => _app = app;

        public Uri BaseAddress { get; private set; } = null!;

        /// Serves each document under /{name}, each wrapped as {"@context": document}.
        public static async Task<ContextSite> StartAsync(IReadOnlyDictionary<string, string> contexts)
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.WebHost.UseUrls("http://127.0.0.1:0");
            builder.Logging.ClearProviders();
            var app = builder.Build();
            app.MapGet("/{name}", (string name) => contexts.TryGetValue(name, out var context)
                ? Results.Text(new JsonObject { ["@context"] = JsonNode.Parse(context) }.ToJsonString(), "application/ld+json")
                : Results.NotFound());
            await app.StartAsync();
            return new ContextSite(app) { BaseAddress = new Uri(app.Urls.First()) };
        }

        public string Url(string name) => new Uri(BaseAddress, name).ToString();

        /// The Link header that names a context for an application/json request.
        public string Link(string name) => $"<{Url(name)}>; rel=\"http://www.w3.org/ns/json-ld#context\"; type=\"application/ld+json\"";

        public async ValueTask DisposeAsync() => await _app.DisposeAsync();
    }
}
