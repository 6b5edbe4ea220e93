using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Agora.Errors;
using Agora.JsonLd;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Agora.Tests.JsonLd;

/// A fresh Agora with its own data folder; options may be overridden per test.
internal sealed class ContextsApplication(string? dataFolder = null, TimeSpan? fetchTimeout = null) : WebApplicationFactory<Program>
{
    public string DataFolder { get; } = dataFolder ?? Path.Combine(Path.GetTempPath(), "agora-jsonld-" + Guid.NewGuid().ToString("N"));

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseSetting("Agora:Data", DataFolder);
        if (fetchTimeout is { } t)
        {
            builder.UseSetting("Agora:ContextFetchTimeout", t.ToString());
        }
    }

    public ContextResolver Resolver => Services.GetRequiredService<ContextResolver>();
}

public sealed class JsonLdContextsApiTests
{
    private const string Minimal = """{"@context": {"A1": "urn:ngsi-ld:attributes:A1", "A2": "urn:ngsi-ld:attributes:A2"}}""";

    private static StringContent Body(string json) => new(json, Encoding.UTF8, "application/json");

    private static async Task<JsonNode> JsonOf(HttpResponseMessage response) => JsonNode.Parse(await response.Content.ReadAsStringAsync())!;

    [Fact]
    public async Task PostedContextIsServedListedAndDeleted()
    {
        await using var app = new ContextsApplication();
        var client = app.CreateClient();

        var created = await client.PostAsync("/ngsi-ld/v1/jsonldContexts", Body(Minimal));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Empty(await created.Content.ReadAsStringAsync());
        var location = created.Headers.Location!.ToString();
        Assert.StartsWith("/ngsi-ld/v1/jsonldContexts/", location, StringComparison.Ordinal);

        var served = await client.GetAsync(location);
        Assert.Equal(HttpStatusCode.OK, served.StatusCode);
        Assert.Equal("application/json", served.Content.Headers.ContentType!.MediaType);
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(Minimal), await JsonOf(served)));

        var details = await JsonOf(await client.GetAsync(location + "?details=true"));
        Assert.Equal("Hosted", (string?)details["kind"]);
        Assert.EndsWith(location, (string?)details["URL"], StringComparison.Ordinal);
        Assert.Equal(location.Split('/')[^1], (string?)details["localId"]);
        Assert.NotNull(details["createdAt"]);

        var list = (JsonArray)await JsonOf(await client.GetAsync("/ngsi-ld/v1/jsonldContexts?kind=Hosted"));
        Assert.Single(list);
        Assert.EndsWith(location, (string?)list[0], StringComparison.Ordinal);

        Assert.Equal(HttpStatusCode.BadRequest, (await client.DeleteAsync(location + "?reload=true")).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await client.DeleteAsync(location)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync(location)).StatusCode);
    }

    [Fact]
    public async Task HostedContextIsUsableThroughItsUrlAndCountsHits()
    {
        await using var app = new ContextsApplication();
        var client = app.CreateClient();
        var location = (await client.PostAsync("/ngsi-ld/v1/jsonldContexts", Body(Minimal))).Headers.Location!.ToString();

        var ctx = await app.Resolver.ResolveAsync(JsonNode.Parse($$"""["{{location}}"]"""), "", default);
        Assert.Equal("urn:ngsi-ld:attributes:A1", ctx.ExpandTerm("A1"));
        Assert.Equal(location, ctx.LinkUrl);
        await app.Resolver.ResolveAsync(JsonValue.Create("http://localhost:1026" + location), "", default);

        var details = await JsonOf(await client.GetAsync(location + "?details=true"));
        Assert.Equal(2, (long)details["numberOfHits"]!);
    }

    [Fact]
    public async Task InvalidPostsAreInvalidRequest()
    {
        await using var app = new ContextsApplication();
        var client = app.CreateClient();
        foreach (var body in new[] { """{"A1": "urn:a"}""", """{"A1": "urn:a" "A2": "urn:b"}""", """{"@context": 42}""", """{"@context": {"x": "@context"}}""" })
        {
            var response = await client.PostAsync("/ngsi-ld/v1/jsonldContexts", Body(body));
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Equal(ErrorTypes.InvalidRequest, (string?)(await JsonOf(response))["type"]);
        }
    }

    [Fact]
    public async Task CoreContextIsListedServedAndCannotBeDeleted()
    {
        await using var app = new ContextsApplication();
        var client = app.CreateClient();
        const string v16 = "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.6.jsonld";
        var escaped = Uri.EscapeDataString(v16);

        var list = (JsonArray)await JsonOf(await client.GetAsync("/ngsi-ld/v1/jsonldContexts"));
        Assert.Contains(list, n => (string?)n == JsonLdContext.CoreUrl);
        var served = await JsonOf(await client.GetAsync("/ngsi-ld/v1/jsonldContexts/" + escaped));
        Assert.Equal("ngsi-ld:Property", (string?)served["@context"]!["Property"]);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync($"/ngsi-ld/v1/jsonldContexts/{escaped}?details=true")).StatusCode);

        var deleted = await client.DeleteAsync("/ngsi-ld/v1/jsonldContexts/" + escaped);
        Assert.Equal(HttpStatusCode.BadRequest, deleted.StatusCode);
        Assert.Equal(ErrorTypes.BadRequestData, (string?)(await JsonOf(deleted))["type"]);
        Assert.Equal(HttpStatusCode.NoContent, (await client.DeleteAsync($"/ngsi-ld/v1/jsonldContexts/{escaped}?reload=true")).StatusCode);
    }

    [Theory]
    [InlineData("?kind=other")]
    [InlineData("?details=other")]
    [InlineData("?details=true&kind=other")]
    public async Task InvalidListParametersAreBadRequestData(string query)
    {
        await using var app = new ContextsApplication();
        var response = await app.CreateClient().GetAsync("/ngsi-ld/v1/jsonldContexts" + query);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(ErrorTypes.BadRequestData, (string?)(await JsonOf(response))["type"]);
    }

    [Theory]
    [InlineData("", HttpStatusCode.NotFound)]
    [InlineData("?reload=false", HttpStatusCode.NotFound)]
    [InlineData("?reload=true", HttpStatusCode.BadRequest)]
    [InlineData("?reload=xxx", HttpStatusCode.BadRequest)]
    public async Task DeletingAnUnknownContextFails(string query, HttpStatusCode status)
    {
        await using var app = new ContextsApplication();
        var response = await app.CreateClient().DeleteAsync("/ngsi-ld/v1/jsonldContexts/wrong_id_context" + query);
        Assert.Equal(status, response.StatusCode);
    }

    [Fact]
    public async Task RemoteContextIsFetchedOnceCachedAndReloadable()
    {
        await using var server = await ContextServer.StartAsync(http =>
        {
            http.Response.ContentType = "application/ld+json";
            return http.Response.WriteAsync("""{"@context": {"speed": "https://example.org/speed", "ex": "https://example.org/"}}""");
        });
        await using var app = new ContextsApplication();
        var client = app.CreateClient();
        var url = server.BaseUrl + "/ctx.jsonld";

        var first = await app.Resolver.ResolveAsync(JsonValue.Create(url), "", default);
        var second = await app.Resolver.ResolveAsync(JsonValue.Create(url), "", default);
        Assert.Same(first, second);
        Assert.Equal("https://example.org/speed", first.ExpandTerm("speed"));
        Assert.Equal(url, first.LinkUrl);
        Assert.Equal(1, server.Requests);

        var details = await JsonOf(await client.GetAsync($"/ngsi-ld/v1/jsonldContexts/{Uri.EscapeDataString(url)}?details=true"));
        Assert.Equal("Cached", (string?)details["kind"]);
        Assert.Equal(2, (long)details["numberOfHits"]!);

        Assert.Equal(HttpStatusCode.NoContent, (await client.DeleteAsync($"/ngsi-ld/v1/jsonldContexts/{Uri.EscapeDataString(url)}?reload=true")).StatusCode);
        Assert.Equal(2, server.Requests);
        var third = await app.Resolver.ResolveAsync(JsonValue.Create(url), "", default);
        Assert.NotSame(first, third);

        Assert.Equal(HttpStatusCode.NoContent, (await client.DeleteAsync($"/ngsi-ld/v1/jsonldContexts/{Uri.EscapeDataString(url)}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"/ngsi-ld/v1/jsonldContexts/{Uri.EscapeDataString(url)}")).StatusCode);
    }

    [Fact]
    public async Task ReloadFromAStoppedServerIs503AndKeepsTheCachedCopy()
    {
        var server = await ContextServer.StartAsync(http => http.Response.WriteAsync("""{"@context": {"speed": "https://example.org/speed"}}"""));
        await using var app = new ContextsApplication();
        var client = app.CreateClient();
        var url = server.BaseUrl + "/ctx.jsonld";
        await app.Resolver.ResolveAsync(JsonValue.Create(url), "", default);
        await server.DisposeAsync();

        var reload = await client.DeleteAsync($"/ngsi-ld/v1/jsonldContexts/{Uri.EscapeDataString(url)}?reload=true");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, reload.StatusCode);
        Assert.Equal(ErrorTypes.LdContextNotAvailable, (string?)(await JsonOf(reload))["type"]);
        var details = await JsonOf(await client.GetAsync($"/ngsi-ld/v1/jsonldContexts/{Uri.EscapeDataString(url)}?details=true"));
        Assert.Equal("Cached", (string?)details["kind"]);
    }

    [Fact]
    public async Task NestedRemoteContextsResolveAndCyclesAreRejected()
    {
        string? baseUrl = null;
        await using var server = await ContextServer.StartAsync(http => http.Request.Path.Value switch
        {
            "/outer.jsonld" => http.Response.WriteAsync($$"""{"@context": ["{{baseUrl}}/inner.jsonld", {"b": "x:b"}]}"""),
            "/inner.jsonld" => http.Response.WriteAsync("""{"@context": {"x": "https://x.example/", "a": "x:a"}}"""),
            "/loop.jsonld" => http.Response.WriteAsync($$"""{"@context": "{{baseUrl}}/loop.jsonld"}"""),
            "/notjson" => http.Response.WriteAsync("<html/>"),
            "/noctx" => http.Response.WriteAsync("""{"a": 1}"""),
            _ => Task.CompletedTask,
        });
        baseUrl = server.BaseUrl;
        await using var app = new ContextsApplication();

        var ctx = await app.Resolver.ResolveAsync(JsonValue.Create(baseUrl + "/outer.jsonld"), "", default);
        Assert.Equal("https://x.example/a", ctx.ExpandTerm("a"));
        Assert.Equal("https://x.example/b", ctx.ExpandTerm("b"));

        var loop = await Assert.ThrowsAsync<NgsiLdException>(async () => await app.Resolver.ResolveAsync(JsonValue.Create(baseUrl + "/loop.jsonld"), "", default));
        Assert.Equal(ErrorTypes.InvalidRequest, loop.Type);
        foreach (var path in new[] { "/notjson", "/noctx", "/missing" })
        {
            var e = await Assert.ThrowsAsync<NgsiLdException>(async () => await app.Resolver.ResolveAsync(JsonValue.Create(baseUrl + path), "", default));
            Assert.Equal(ErrorTypes.LdContextNotAvailable, e.Type);
            Assert.Contains(baseUrl + path, e.Detail, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task UnreachableContextIs503LdContextNotAvailable()
    {
        await using var app = new ContextsApplication();
        var e = await Assert.ThrowsAsync<NgsiLdException>(async () => await app.Resolver.ResolveAsync(JsonValue.Create("http://127.0.0.1:1/ctx.jsonld"), "", default));
        Assert.Equal(ErrorTypes.LdContextNotAvailable, e.Type);
        Assert.Equal(503, e.Status);
        Assert.Contains("http://127.0.0.1:1/ctx.jsonld", e.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SlowContextServerTimesOutWith503()
    {
        await using var server = await ContextServer.StartAsync(async http =>
        {
            await Task.Delay(TimeSpan.FromSeconds(10), http.RequestAborted).ContinueWith(_ => { }, TaskScheduler.Default);
        });
        await using var app = new ContextsApplication(fetchTimeout: TimeSpan.FromMilliseconds(300));
        var clock = Stopwatch.StartNew();
        var e = await Assert.ThrowsAsync<NgsiLdException>(async () => await app.Resolver.ResolveAsync(JsonValue.Create(server.BaseUrl + "/slow.jsonld"), "", default));
        Assert.Equal(ErrorTypes.LdContextNotAvailable, e.Type);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"took {clock.Elapsed}");
    }

    [Fact]
    public async Task InlineContextsAreServedAsImplicitlyCreated()
    {
        await using var app = new ContextsApplication();
        var client = app.CreateClient();
        var inline = JsonNode.Parse("""[{"A1": "urn:a1"}, {"A2": "urn:a2"}]""");
        var ctx = await app.Resolver.ResolveAsync(inline, "", default);
        Assert.Same(ctx, await app.Resolver.ResolveAsync(JsonNode.Parse("""[{"A1": "urn:a1"}, {"A2": "urn:a2"}]"""), "", default));
        var link = ctx.LinkUrl;
        Assert.StartsWith("/ngsi-ld/v1/jsonldContexts/", link, StringComparison.Ordinal);

        var list = (JsonArray)await JsonOf(await client.GetAsync("/ngsi-ld/v1/jsonldContexts?kind=ImplicitlyCreated&details=true"));
        Assert.Equal("ImplicitlyCreated", (string?)Assert.Single(list)!["kind"]);
        var served = await JsonOf(await client.GetAsync(link));
        Assert.True(JsonNode.DeepEquals(inline, served["@context"]));

        var viaLink = await app.Resolver.ResolveAsync(JsonValue.Create(link), "", default);
        Assert.Equal("urn:a2", viaLink.ExpandTerm("A2"));
        Assert.Equal(HttpStatusCode.BadRequest, (await client.DeleteAsync(link + "?reload=true")).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await client.DeleteAsync(link)).StatusCode);
    }

    [Fact]
    public async Task StoredContextsSurviveARestart()
    {
        string location;
        var folder = Path.Combine(Path.GetTempPath(), "agora-jsonld-" + Guid.NewGuid().ToString("N"));
        await using (var app = new ContextsApplication(folder))
        {
            location = (await app.CreateClient().PostAsync("/ngsi-ld/v1/jsonldContexts", Body(Minimal))).Headers.Location!.ToString();
        }
        Assert.True(File.Exists(Path.Combine(folder, "contexts.db")));
        await using (var app = new ContextsApplication(folder))
        {
            var served = await app.CreateClient().GetAsync(location);
            Assert.Equal(HttpStatusCode.OK, served.StatusCode);
            var ctx = await app.Resolver.ResolveAsync(JsonValue.Create(location), "", default);
            Assert.Equal("urn:ngsi-ld:attributes:A2", ctx.ExpandTerm("A2"));
        }
    }
}
