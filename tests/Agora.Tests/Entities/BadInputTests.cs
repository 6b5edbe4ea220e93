using System.Net;
using System.Text;
using static Agora.Tests.AgoraApplication;
using static Agora.Tests.NgsiLdAssert;

namespace Agora.Tests.Entities;

public sealed class BadInputTests
{
    private const string Id = "urn:ngsi-ld:Building:1";
    private const string Building = """{"id": "urn:ngsi-ld:Building:1", "type": "Building", "temperature": 21}""";

    [Theory]
    [InlineData("{\"id\": ")]
    [InlineData("{'id': 'urn:a:b'}")]
    [InlineData("{\"id\": \"urn:a:b\",}")]
    [InlineData("""{"id": "urn:ngsi-ld:Building:1", "id": "urn:ngsi-ld:Building:2", "type": "Building"}""")]
    [InlineData("""{"id": "urn:ngsi-ld:Building:\udc00", "type": "Building"}""")]
    [InlineData("""{"id": "urn:ngsi-ld:Building:1", "type": "Building", "\ud800": 1}""")]
    [InlineData("""{"id": "urn:ngsi-ld:Building:1", "type": "Building", "temperature": {"type": "Property", "value": ["\ud800"]}}""")]
    public async Task MalformedJsonIsInvalidRequest(string body)
    {
        await using var app = new AgoraApplication();
        using var client = app.CreateClient();

        using var response = await client.PostAsync(EntitiesPath, Json(body));

        await ProblemAsync(response, HttpStatusCode.BadRequest, "InvalidRequest");
    }

    [Fact]
    public async Task AnEmptyBodyIsInvalidRequest()
    {
        await using var app = new AgoraApplication();
        using var client = app.CreateClient();

        using var response = await client.PostAsync(EntitiesPath, Json(""));

        await ProblemAsync(response, HttpStatusCode.BadRequest, "InvalidRequest");
    }

    [Theory]
    [InlineData("[]")]
    [InlineData("[{\"id\": \"urn:a:b\", \"type\": \"T\"}]")]
    [InlineData("42")]
    [InlineData("\"urn:a:b\"")]
    [InlineData("true")]
    [InlineData("null")]
    public async Task JsonThatIsNotAnObjectIsRejected(string body)
    {
        await using var app = new AgoraApplication();
        await app.CreateEntityAsync(Building);
        using var client = app.CreateClient();

        foreach (var (method, path) in new[]
        {
            (HttpMethod.Post, EntitiesPath), (HttpMethod.Put, EntityPath(Id)), (HttpMethod.Patch, EntityPath(Id)),
            (HttpMethod.Post, AttrsPath(Id)), (HttpMethod.Patch, AttrsPath(Id)),
            (HttpMethod.Patch, AttrPath(Id, "temperature")), (HttpMethod.Put, AttrPath(Id, "temperature")),
        })
        {
            using var response = await client.SendAsync(new HttpRequestMessage(method, path) { Content = Json(body) });

            var problem = await AnyProblemAsync(response);
            Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{method} {path} answered {response.StatusCode}: {problem}");
        }
    }

    [Theory]
    [InlineData("text/plain")]
    [InlineData("application/xml")]
    [InlineData("application/geo+json")]
    public async Task AnUnsupportedContentTypeIs415(string mediaType)
    {
        await using var app = new AgoraApplication();
        using var client = app.CreateClient();

        using var response = await client.PostAsync(EntitiesPath, Json(Building, mediaType));

        await ProblemAsync(response, HttpStatusCode.UnsupportedMediaType);
    }

    [Fact]
    public async Task MergePatchIsOnlyAcceptedByPatches()
    {
        await using var app = new AgoraApplication();
        using var client = app.CreateClient();

        using var response = await client.PostAsync(EntitiesPath, Json(Building, "application/merge-patch+json"));

        await ProblemAsync(response, HttpStatusCode.UnsupportedMediaType);
    }

    [Theory]
    [InlineData("""{"type": "Building"}""")]
    [InlineData("""{"id": "Building1", "type": "Building"}""")]
    [InlineData("""{"id": "", "type": "Building"}""")]
    [InlineData("""{"id": "urn:ngsi-ld:Building 1", "type": "Building"}""")]
    [InlineData("""{"id": "1:Building", "type": "Building"}""")]
    [InlineData("""{"id": 42, "type": "Building"}""")]
    [InlineData("""{"id": ["urn:a:b"], "type": "Building"}""")]
    [InlineData("""{"id": null, "type": "Building"}""")]
    public async Task AMissingOrInvalidIdIsBadRequestData(string body)
    {
        await AssertRejectedAsync(body);
    }

    [Theory]
    [InlineData("""{"id": "urn:ngsi-ld:Building:1"}""")]
    [InlineData("""{"id": "urn:ngsi-ld:Building:1", "type": []}""")]
    [InlineData("""{"id": "urn:ngsi-ld:Building:1", "type": 7}""")]
    [InlineData("""{"id": "urn:ngsi-ld:Building:1", "type": "Bad Type"}""")]
    [InlineData("""{"id": "urn:ngsi-ld:Building:1", "type": null}""")]
    public async Task AMissingOrInvalidTypeIsBadRequestData(string body)
    {
        await AssertRejectedAsync(body);
    }

    [Theory]
    [InlineData("temp<erature")]
    [InlineData("a=b")]
    [InlineData("f(x)")]
    [InlineData("with space")]
    [InlineData("semi;colon")]
    [InlineData("quote'd")]
    [InlineData("")]
    [InlineData("@value")]
    [InlineData("tab\there")]
    public async Task AnInvalidAttributeNameIsBadRequestData(string name)
    {
        var escaped = System.Text.Json.JsonSerializer.Serialize(name);
        await AssertRejectedAsync($$$"""{"id": "urn:ngsi-ld:Building:1", "type": "Building", {{{escaped}}}: 21}""");
    }

    [Theory]
    [InlineData("""{"type": "Property"}""")]
    [InlineData("""{"type": "Property", "unitCode": "CEL"}""")]
    [InlineData("""{"type": "Property", "value": null}""")]
    [InlineData("""{"type": "Property", "value": [1, null]}""")]
    [InlineData("""{"type": "Temperature", "value": 21}""")]
    [InlineData("""{"type": "Property", "value": 21, "unitCode": ""}""")]
    [InlineData("""{"type": "Property", "value": 21, "datasetId": "not a uri"}""")]
    [InlineData("""{"type": "Property", "value": 21, "sub": null}""")]
    [InlineData("null")]
    public async Task APropertyWithoutAProperValueIsBadRequestData(string attribute)
    {
        await AssertRejectedAsync($$$"""{"id": "urn:ngsi-ld:Building:1", "type": "Building", "temperature": {{{attribute}}}}""");
    }

    [Theory]
    [InlineData("""{"type": "Relationship"}""")]
    [InlineData("""{"type": "Relationship", "object": "Person 1"}""")]
    [InlineData("""{"type": "Relationship", "object": "person1"}""")]
    [InlineData("""{"type": "Relationship", "object": 42}""")]
    [InlineData("""{"type": "Relationship", "object": {"id": "urn:a:b"}}""")]
    [InlineData("""{"type": "Relationship", "object": null}""")]
    [InlineData("""{"type": "ListRelationship", "objectList": "urn:a:b"}""")]
    [InlineData("""{"type": "ListRelationship", "objectList": [{"object": "not a uri"}]}""")]
    public async Task ARelationshipWithoutAUriObjectIsBadRequestData(string attribute)
    {
        await AssertRejectedAsync($$$"""{"id": "urn:ngsi-ld:Building:1", "type": "Building", "owner": {{{attribute}}}}""");
    }

    [Theory]
    [InlineData("""{"type": "GeoProperty", "value": "here"}""")]
    [InlineData("""{"type": "GeoProperty", "value": {"type": "Point", "coordinates": [500, 0]}}""")]
    [InlineData("""{"type": "GeoProperty", "value": {"type": "Point", "coordinates": [1]}}""")]
    [InlineData("""{"type": "GeoProperty", "value": {"type": "Point", "coordinates": ["1", "2"]}}""")]
    [InlineData("""{"type": "GeoProperty", "value": {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [2, 2]]]}}""")]
    [InlineData("""{"type": "GeoProperty", "value": {"type": "LineString", "coordinates": [[0, 0]]}}""")]
    [InlineData("""{"type": "GeoProperty", "value": {"type": "Circle", "coordinates": [0, 0]}}""")]
    [InlineData("""{"type": "Point", "coordinates": [0, 100]}""")]
    public async Task InvalidGeoJsonIsBadRequestData(string attribute)
    {
        await AssertRejectedAsync($$$"""{"id": "urn:ngsi-ld:Building:1", "type": "Building", "position": {{{attribute}}}}""");
    }

    [Theory]
    [InlineData("""{"type": "LanguageProperty", "languageMap": "Main street"}""")]
    [InlineData("""{"type": "LanguageProperty", "languageMap": {"en": 5}}""")]
    [InlineData("""{"type": "ListProperty", "valueList": 5}""")]
    [InlineData("""{"type": "VocabProperty", "vocab": 5}""")]
    [InlineData("""{"type": "JsonProperty"}""")]
    public async Task OtherAttributeTypesWithoutAProperValueAreBadRequestData(string attribute)
    {
        await AssertRejectedAsync($$$"""{"id": "urn:ngsi-ld:Building:1", "type": "Building", "category": {{{attribute}}}}""");
    }

    [Fact]
    public async Task ABodyLargerThanTheLimitIs413()
    {
        await using var app = new AgoraApplication(("Agora:MaxBodyBytes", "1024"));
        using var client = app.CreateClient();
        var big = $$$"""{"id": "urn:ngsi-ld:Building:1", "type": "Building", "notes": "{{{new string('x', 4096)}}}"}""";

        using var response = await client.PostAsync(EntitiesPath, Json(big));
        using var small = await client.PostAsync(EntitiesPath, Json(Building));

        await ProblemAsync(response, HttpStatusCode.RequestEntityTooLarge);
        Assert.Equal(HttpStatusCode.Created, small.StatusCode);
    }

    [Fact]
    public async Task AStreamedBodyLargerThanTheLimitIs413()
    {
        await using var app = new AgoraApplication(("Agora:MaxBodyBytes", "1024"));
        using var client = app.CreateClient();
        var big = Encoding.UTF8.GetBytes($$$"""{"id": "urn:ngsi-ld:Building:1", "type": "Building", "notes": "{{{new string('x', 64 * 1024)}}}"}""");
        using var content = new UnknownLengthContent(big);

        using var response = await client.PostAsync(EntitiesPath, content);

        await ProblemAsync(response, HttpStatusCode.RequestEntityTooLarge);
        using var retrieved = await client.GetAsync(EntityPath(Id));
        Assert.Equal(HttpStatusCode.NotFound, retrieved.StatusCode);
    }

    [Fact]
    public async Task AContextInAJsonBodyIsRejected()
    {
        await AssertRejectedAsync("""
            {"@context": "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.8.jsonld", "id": "urn:ngsi-ld:Building:1", "type": "Building"}
            """);
    }

    [Fact]
    public async Task AnLdJsonBodyWithoutContextIsRejected()
    {
        await using var app = new AgoraApplication();
        using var client = app.CreateClient();

        using var response = await client.PostAsync(EntitiesPath, Json(Building, "application/ld+json"));

        await ProblemAsync(response, HttpStatusCode.BadRequest, "BadRequestData");
    }

    [Theory]
    [InlineData("not a link")]
    [InlineData("<relative/context.jsonld>; rel=\"http://www.w3.org/ns/json-ld#context\"")]
    public async Task AnInvalidLinkHeaderIsRejected(string link)
    {
        await using var app = new AgoraApplication();
        await app.CreateEntityAsync(Building);
        using var client = app.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, EntityPath(Id));
        request.Headers.TryAddWithoutValidation("Link", link);

        using var response = await client.SendAsync(request);

        await ProblemAsync(response, HttpStatusCode.BadRequest, "BadRequestData");
    }

    [Fact]
    public async Task CreatingAnExistingEntityIsAlreadyExists()
    {
        await using var app = new AgoraApplication();
        await app.CreateEntityAsync(Building);
        using var client = app.CreateClient();

        using var response = await client.PostAsync(EntitiesPath, Json("""{"id": "urn:ngsi-ld:Building:1", "type": "Shed"}"""));

        await ProblemAsync(response, HttpStatusCode.Conflict, "AlreadyExists");
        Assert.Equal("Building", (string?)(await app.RetrieveAsync(Id))["type"]);
    }

    public static TheoryData<string, string, string?> OperationsOnOneEntity => new()
    {
        { "GET", "", null },
        { "DELETE", "", null },
        { "PUT", "", """{"type": "Building"}""" },
        { "PATCH", "", """{"temperature": 1}""" },
        { "POST", "/attrs", """{"temperature": 1}""" },
        { "PATCH", "/attrs", """{"temperature": 1}""" },
        { "PATCH", "/attrs/temperature", """{"value": 1}""" },
        { "PUT", "/attrs/temperature", """{"type": "Property", "value": 1}""" },
        { "DELETE", "/attrs/temperature", null },
    };

    [Theory]
    [MemberData(nameof(OperationsOnOneEntity))]
    public async Task EveryOperationOnAnUnknownEntityIsResourceNotFound(string method, string suffix, string? body)
    {
        await using var app = new AgoraApplication();
        await app.CreateEntityAsync(Building);
        using var client = app.CreateClient();
        using var request = new HttpRequestMessage(new HttpMethod(method), EntityPath("urn:ngsi-ld:Building:404") + suffix);
        if (body is not null)
        {
            request.Content = Json(body);
        }

        using var response = await client.SendAsync(request);

        await ProblemAsync(response, HttpStatusCode.NotFound, "ResourceNotFound");
    }

    [Theory]
    [MemberData(nameof(OperationsOnOneEntity))]
    public async Task EveryOperationOnAnInvalidEntityIdIsBadRequestData(string method, string suffix, string? body)
    {
        await using var app = new AgoraApplication();
        using var client = app.CreateClient();
        using var request = new HttpRequestMessage(new HttpMethod(method), EntityPath("not an id") + suffix);
        if (body is not null)
        {
            request.Content = Json(body);
        }

        using var response = await client.SendAsync(request);

        await ProblemAsync(response, HttpStatusCode.BadRequest, "BadRequestData");
    }

    [Fact]
    public async Task AnUnsupportedMethodIsAnsweredAsAnNgsiLdError()
    {
        await using var app = new AgoraApplication();
        using var client = app.CreateClient();

        using var response = await client.DeleteAsync(AttrsPath("urn:ngsi-ld:Building:1"));

        await ProblemAsync(response, HttpStatusCode.MethodNotAllowed, "OperationNotSupported");
    }

    [Theory]
    [InlineData("PUT", "/ngsi-ld/v1/entities/")]
    [InlineData("PATCH", "/ngsi-ld/v1/entities/")]
    [InlineData("POST", "/ngsi-ld/v1/entities//attrs")]
    [InlineData("PATCH", "/ngsi-ld/v1/entities//attrs/name")]
    public async Task AWriteWithoutAnEntityIdIsBadRequestData(string method, string path)
    {
        await using var app = new AgoraApplication();
        using var client = app.CreateClient();

        using var response = await client.SendAsync(new HttpRequestMessage(new HttpMethod(method), path) { Content = Json(Building) });

        await ProblemAsync(response, HttpStatusCode.BadRequest, "BadRequestData");
    }

    [Fact]
    public async Task AMergeWithOneInvalidAttributeChangesNothing()
    {
        await using var app = new AgoraApplication();
        await app.CreateEntityAsync(Building);
        var before = await app.RetrieveAsync(Id, "?options=sysAttrs");
        using var client = app.CreateClient();

        using var response = await client.PatchAsync(EntityPath(Id), Json("""{"temperature": 30, "owner": {"type": "Relationship", "object": "nope"}}"""));

        await ProblemAsync(response, HttpStatusCode.BadRequest, "BadRequestData");
        JsonEqual(before.ToJsonString(), await app.RetrieveAsync(Id, "?options=sysAttrs"));
    }

    public static TheoryData<string, string, string> PartlyInvalidWrites => new()
    {
        { "PUT", "", """{"type": "Building", "pressure": 1013, "bad<name": 1}""" },
        { "POST", "/attrs", """{"pressure": 1013, "position": {"type": "Point", "coordinates": [999, 0]}}""" },
        { "PATCH", "/attrs", """{"temperature": 30, "humidity": null}""" },
        { "PATCH", "/attrs/temperature", """{"value": 30, "observedAt": "soon"}""" },
        { "PUT", "/attrs/temperature", """{"type": "Property", "value": 30, "accuracy": {"type": "Property"}}""" },
    };

    [Theory]
    [MemberData(nameof(PartlyInvalidWrites))]
    public async Task AFailedUpdateLeavesNoPartialWrite(string method, string suffix, string body)
    {
        await using var app = new AgoraApplication();
        await app.CreateEntityAsync(Building);
        var before = await app.RetrieveAsync(Id, "?options=sysAttrs");
        using var client = app.CreateClient();

        using var response = await client.SendAsync(new HttpRequestMessage(new HttpMethod(method), EntityPath(Id) + suffix) { Content = Json(body) });

        await ProblemAsync(response, HttpStatusCode.BadRequest, "BadRequestData");
        JsonEqual(before.ToJsonString(), await app.RetrieveAsync(Id, "?options=sysAttrs"));
    }

    [Fact]
    public async Task AFailedCreateStoresNothing()
    {
        await using var app = new AgoraApplication();
        using var client = app.CreateClient();

        using var response = await client.PostAsync(EntitiesPath, Json("""{"id": "urn:ngsi-ld:Building:1", "type": "Building", "temperature": 21, "owner": {"type": "Relationship"}}"""));
        using var retrieved = await client.GetAsync(EntityPath(Id));

        await ProblemAsync(response, HttpStatusCode.BadRequest, "BadRequestData");
        await ProblemAsync(retrieved, HttpStatusCode.NotFound, "ResourceNotFound");
    }

    private static async Task AssertRejectedAsync(string body)
    {
        await using var app = new AgoraApplication();
        using var client = app.CreateClient();

        using var response = await client.PostAsync(EntitiesPath, Json(body));

        await ProblemAsync(response, HttpStatusCode.BadRequest, "BadRequestData");
    }

    /// A body sent without Content-Length, as a client streaming it would.
    private sealed class UnknownLengthContent : HttpContent
    {
        private readonly byte[] _bytes;

        public UnknownLengthContent(byte[] bytes)
        {
            _bytes = bytes;
            Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        }

        protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) => stream.WriteAsync(_bytes).AsTask();

        protected override bool TryComputeLength(out long length)
        {
            length = -1;
            return false;
        }
    }
}
