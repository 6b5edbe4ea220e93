using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using Agora.Tests.Discovery;
using static Agora.Tests.AgoraApplication;
using static Agora.Tests.NgsiLdAssert;
using static Agora.Tests.Registrations.RegistrationClient;

namespace Agora.Tests.Registrations;

public sealed class RegistrationApiTests
{
    private const string Id = "urn:ngsi-ld:ContextSourceRegistration:1";

    [Fact]
    public async Task CreatedRegistrationReadsBackWithDefaultModeAndOperations()
    {
        await using var app = new AgoraApplication();
        using var created = await CreateAsync(app, Registration(Id, """, "registrationName": "city sensors", "expiresAt": "2099-01-01T00:00:00Z" """));

        var read = await RetrieveAsync(app, Id);

        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal($"/ngsi-ld/v1/csourceRegistrations/{Id}", created.Headers.Location?.ToString());
        JsonEqual($$"""
            {"id": "{{Id}}", "type": "ContextSourceRegistration", "registrationName": "city sensors", "expiresAt": "2099-01-01T00:00:00Z",
             "information": [{"entities": [{"type": "Building"}], "propertyNames": ["name"], "relationshipNames": ["owner"]}],
             "endpoint": "http://source.example.org:1026", "mode": "inclusive", "operations": ["federationOps"]}
            """, read);
        var withSysAttrs = await RetrieveAsync(app, Id, "?options=sysAttrs");
        Assert.True(withSysAttrs.ContainsKey("createdAt"));
        Assert.True(withSysAttrs.ContainsKey("modifiedAt"));
    }

    [Fact]
    public async Task EveryMemberOfTheSpecIsKept()
    {
        await using var app = new AgoraApplication();
        const string Members = """
            , "description": "d", "tenant": "t1", "observationInterval": {"startAt": "2020-01-01T00:00:00Z", "endAt": "2021-01-01T00:00:00Z"},
            "managementInterval": {"startAt": "2020-01-01T00:00:00Z"}, "location": {"type": "Point", "coordinates": [2.35, 48.85]},
            "observationSpace": {"type": "Polygon", "coordinates": [[[2, 48], [3, 48], [3, 49], [2, 49], [2, 48]]]},
            "operationSpace": {"type": "Point", "coordinates": [2, 48]}, "contextSourceInfo": [{"key": "k", "value": "v"}],
            "scope": "/Paris/Sensors", "mode": "redirect", "operations": ["retrieveOps", "queryEntity"], "refreshRate": "PT1M",
            "management": {"localOnly": true, "cacheDuration": "PT10S", "timeout": 500, "cooldown": 1000}
            """;
        await RegisterAsync(app, Registration(Id, Members));

        var read = await RetrieveAsync(app, Id);

        JsonEqual(Registration(Id, Members), read);
    }

    [Fact]
    public async Task RegistrationWithoutIdGetsOne()
    {
        await using var app = new AgoraApplication();

        using var created = await CreateAsync(app, """
            {"type": "ContextSourceRegistration", "information": [{"entities": [{"type": "Building"}]}], "endpoint": "http://a.example.org"}
            """);

        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.StartsWith("/ngsi-ld/v1/csourceRegistrations/urn:ngsi-ld:ContextSourceRegistration:", created.Headers.Location?.ToString());
    }

    [Fact]
    public async Task CreatingTheSameIdTwiceIsAlreadyExists()
    {
        await using var app = new AgoraApplication();
        await RegisterAsync(app, Registration(Id));

        using var again = await CreateAsync(app, Registration(Id));

        await ProblemAsync(again, HttpStatusCode.Conflict, "AlreadyExists");
    }

    [Theory]
    [InlineData("""{"id": "urn:a:1", "information": [{"entities": [{"type": "B"}]}], "endpoint": "http://a.org"}""", "type")]
    [InlineData("""{"id": "urn:a:1", "type": "Registration", "information": [{"entities": [{"type": "B"}]}], "endpoint": "http://a.org"}""", "type")]
    [InlineData("""{"id": "notAUri", "type": "ContextSourceRegistration", "information": [{"entities": [{"type": "B"}]}], "endpoint": "http://a.org"}""", "id")]
    [InlineData("""{"type": "ContextSourceRegistration", "endpoint": "http://a.org"}""", "information")]
    [InlineData("""{"type": "ContextSourceRegistration", "information": null, "endpoint": "http://a.org"}""", "information")]
    [InlineData("""{"type": "ContextSourceRegistration", "information": [], "endpoint": "http://a.org"}""", "information")]
    [InlineData("""{"type": "ContextSourceRegistration", "information": [{}], "endpoint": "http://a.org"}""", "information")]
    [InlineData("""{"type": "ContextSourceRegistration", "information": [{"things": []}], "endpoint": "http://a.org"}""", "information")]
    [InlineData("""{"type": "ContextSourceRegistration", "information": [{"entities": []}], "endpoint": "http://a.org"}""", "information.entities")]
    [InlineData("""{"type": "ContextSourceRegistration", "information": [{"entities": [{"id": "urn:a:b"}]}], "endpoint": "http://a.org"}""", "information.entities.type")]
    [InlineData("""{"type": "ContextSourceRegistration", "information": [{"entities": [{"type": "B", "id": "x"}]}], "endpoint": "http://a.org"}""", "information.entities.id")]
    [InlineData("""{"type": "ContextSourceRegistration", "information": [{"entities": [{"type": "B", "idPattern": "(("}]}], "endpoint": "http://a.org"}""", "information.entities.idPattern")]
    [InlineData("""{"type": "ContextSourceRegistration", "information": [{"propertyNames": ["a b"]}], "endpoint": "http://a.org"}""", "information.propertyNames")]
    [InlineData("""{"type": "ContextSourceRegistration", "information": [{"relationshipNames": []}], "endpoint": "http://a.org"}""", "information.relationshipNames")]
    [InlineData("""{"type": "ContextSourceRegistration", "information": [{"propertyNames": ["a"]}]}""", "endpoint")]
    [InlineData("""{"type": "ContextSourceRegistration", "information": [{"propertyNames": ["a"]}], "endpoint": "not a uri"}""", "endpoint")]
    [InlineData("""{"type": "ContextSourceRegistration", "information": [{"propertyNames": ["a"]}], "endpoint": "http://a.org", "expiresAt": "2001-01-01T00:00:00Z"}""", "expiresAt")]
    [InlineData("""{"type": "ContextSourceRegistration", "information": [{"propertyNames": ["a"]}], "endpoint": "http://a.org", "expiresAt": "tomorrow"}""", "expiresAt")]
    [InlineData("""{"type": "ContextSourceRegistration", "information": [{"propertyNames": ["a"]}], "endpoint": "http://a.org", "mode": "sometimes"}""", "mode")]
    [InlineData("""{"type": "ContextSourceRegistration", "information": [{"propertyNames": ["a"]}], "endpoint": "http://a.org", "operations": ["teleport"]}""", "operations")]
    [InlineData("""{"type": "ContextSourceRegistration", "information": [{"propertyNames": ["a"]}], "endpoint": "http://a.org", "operations": []}""", "operations")]
    [InlineData("""{"type": "ContextSourceRegistration", "information": [{"propertyNames": ["a"]}], "endpoint": "http://a.org", "location": {"type": "Point", "coordinates": [1]}}""", "location")]
    [InlineData("""{"type": "ContextSourceRegistration", "information": [{"propertyNames": ["a"]}], "endpoint": "http://a.org", "observationSpace": "here"}""", "observationSpace")]
    [InlineData("""{"type": "ContextSourceRegistration", "information": [{"propertyNames": ["a"]}], "endpoint": "http://a.org", "observationInterval": {"endAt": "2020-01-01T00:00:00Z"}}""", "observationInterval.startAt")]
    [InlineData("""{"type": "ContextSourceRegistration", "information": [{"propertyNames": ["a"]}], "endpoint": "http://a.org", "managementInterval": {"startAt": "2021-01-01T00:00:00Z", "endAt": "2020-01-01T00:00:00Z"}}""", "managementInterval.endAt")]
    [InlineData("""{"type": "ContextSourceRegistration", "information": [{"propertyNames": ["a"]}], "endpoint": "http://a.org", "contextSourceInfo": [{"key": "k"}]}""", "contextSourceInfo")]
    [InlineData("""{"type": "ContextSourceRegistration", "information": [{"propertyNames": ["a"]}], "endpoint": "http://a.org", "scope": "no-slash"}""", "scope")]
    [InlineData("""{"type": "ContextSourceRegistration", "information": [{"propertyNames": ["a"]}], "endpoint": "http://a.org", "refreshRate": "often"}""", "refreshRate")]
    [InlineData("""{"type": "ContextSourceRegistration", "information": [{"propertyNames": ["a"]}], "endpoint": "http://a.org", "management": {"timeout": -1}}""", "management.timeout")]
    [InlineData("""{"type": "ContextSourceRegistration", "information": [{"propertyNames": ["a"]}], "endpoint": "http://a.org", "management": {"localOnly": "yes"}}""", "management.localOnly")]
    [InlineData("""{"type": "ContextSourceRegistration", "information": [{"propertyNames": ["a"]}], "endpoint": "http://a.org", "management": {"retries": 3}}""", "management")]
    [InlineData("""{"type": "ContextSourceRegistration", "information": [{"entities": [{"type": "B", "id": "urn:b:1"}]}], "endpoint": "http://a.org", "mode": "exclusive"}""", "information")]
    [InlineData("""{"type": "ContextSourceRegistration", "information": [{"entities": [{"type": "B"}], "propertyNames": ["a"]}], "endpoint": "http://a.org", "mode": "exclusive"}""", "information.entities")]
    public async Task AnInvalidRegistrationIsBadRequestDataNamingTheField(string json, string field)
    {
        await using var app = new AgoraApplication();

        using var response = await CreateAsync(app, json);

        var problem = await ProblemAsync(response, HttpStatusCode.BadRequest, "BadRequestData");
        Assert.StartsWith(field + ":", (string?)problem["detail"]);
    }

    [Fact]
    public async Task MalformedJsonIsInvalidRequest()
    {
        await using var app = new AgoraApplication();

        using var response = await CreateAsync(app, """{"type": "ContextSourceRegistration",""");

        await ProblemAsync(response, HttpStatusCode.BadRequest, "InvalidRequest");
    }

    [Fact]
    public async Task AnUnknownParameterIsInvalidRequest()
    {
        await using var app = new AgoraApplication();
        using var client = app.CreateClient();

        using var response = await client.GetAsync(RegistrationsPath + "?type=Building&colour=red");

        await ProblemAsync(response, HttpStatusCode.BadRequest, "InvalidRequest");
    }

    [Fact]
    public async Task RetrievingAnUnknownRegistrationIsResourceNotFound()
    {
        await using var app = new AgoraApplication();
        using var client = app.CreateClient();

        using var missing = await client.GetAsync(RegistrationPath(Id));
        using var invalid = await client.GetAsync(RegistrationPath("notAUri"));

        await ProblemAsync(missing, HttpStatusCode.NotFound, "ResourceNotFound");
        await ProblemAsync(invalid, HttpStatusCode.BadRequest, "BadRequestData");
    }

    [Fact]
    public async Task PatchMergesTheGivenMembersAndRemovesNulls()
    {
        await using var app = new AgoraApplication();
        await RegisterAsync(app, Registration(Id, """, "description": "old", "expiresAt": "2099-01-01T00:00:00Z" """));
        var before = await RetrieveAsync(app, Id, "?options=sysAttrs");

        using var patched = await PatchAsync(app, Id, """{"description": "new", "expiresAt": null, "information": [{"propertyNames": ["height"]}]}""");
        var after = await RetrieveAsync(app, Id, "?options=sysAttrs");

        Assert.Equal(HttpStatusCode.NoContent, patched.StatusCode);
        Assert.Equal("new", (string?)after["description"]);
        Assert.False(after.ContainsKey("expiresAt"));
        JsonEqual("""[{"propertyNames": ["height"]}]""", after["information"]);
        Assert.Equal("http://source.example.org:1026", (string?)after["endpoint"]);
        Assert.Equal((string?)before["createdAt"], (string?)after["createdAt"]);
        Assert.True(string.CompareOrdinal((string?)after["modifiedAt"], (string?)before["modifiedAt"]) > 0);
    }

    [Theory]
    [InlineData("""{"type": "Subscription"}""")]
    [InlineData("""{"endpoint": null}""")]
    [InlineData("""{"information": []}""")]
    [InlineData("""{"mode": "often"}""")]
    [InlineData("""{}""")]
    public async Task AnInvalidPatchIsBadRequestDataAndChangesNothing(string fragment)
    {
        await using var app = new AgoraApplication();
        await RegisterAsync(app, Registration(Id));

        using var response = await PatchAsync(app, Id, fragment);

        await ProblemAsync(response, HttpStatusCode.BadRequest, "BadRequestData");
        JsonEqual(Registration(Id, """, "mode": "inclusive", "operations": ["federationOps"]"""), await RetrieveAsync(app, Id));
    }

    [Fact]
    public async Task PatchingOrDeletingAnUnknownRegistrationIsResourceNotFound()
    {
        await using var app = new AgoraApplication();
        using var client = app.CreateClient();

        using var patched = await PatchAsync(app, Id, """{"description": "x"}""");
        using var deleted = await client.DeleteAsync(RegistrationPath(Id));

        await ProblemAsync(patched, HttpStatusCode.NotFound, "ResourceNotFound");
        await ProblemAsync(deleted, HttpStatusCode.NotFound, "ResourceNotFound");
    }

    [Fact]
    public async Task DeletedRegistrationIsGone()
    {
        await using var app = new AgoraApplication();
        await RegisterAsync(app, Registration(Id));
        using var client = app.CreateClient();

        using var deleted = await client.DeleteAsync(RegistrationPath(Id));
        using var read = await client.GetAsync(RegistrationPath(Id));

        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, read.StatusCode);
    }

    [Fact]
    public async Task NamesAreStoredExpandedAndReadInTheReadersContext()
    {
        await using var app = new AgoraApplication();
        using var created = await CreateAsync(app, """
            {"@context": {"Bldg": "https://example.org/Building", "height": "https://example.org/height", "sensorKind": "https://example.org/sensorKind"},
             "id": "urn:ngsi-ld:ContextSourceRegistration:1", "type": "ContextSourceRegistration",
             "information": [{"entities": [{"type": "Bldg"}], "propertyNames": ["height"]}], "endpoint": "http://a.example.org", "sensorKind": "lidar"}
            """, "application/ld+json");

        var plain = await RetrieveAsync(app, Id);

        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        JsonEqual("""[{"entities": [{"type": "https://example.org/Building"}], "propertyNames": ["https://example.org/height"]}]""", plain["information"]);
        Assert.Equal("lidar", (string?)plain["https://example.org/sensorKind"]);
    }

    [Fact]
    public async Task ALinkedContextCompactsTheAnswer()
    {
        await using var app = new AgoraApplication();
        await RegisterAsync(app, Registration(Id, information: """[{"entities": [{"type": "https://example.org/Building"}], "propertyNames": ["https://example.org/height"]}]"""));
        var link = await app.HostContextAsync("""{"Building": "https://example.org/Building", "height": "https://example.org/height"}""");
        using var client = app.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, RegistrationPath(Id));
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/ld+json"));
        request.Headers.Add("Link", link);

        using var response = await client.SendAsync(request);
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/ld+json", response.Content.Headers.ContentType?.MediaType);
        JsonEqual("""[{"entities": [{"type": "Building"}], "propertyNames": ["height"]}]""", body["information"]);
        Assert.NotNull(body["@context"]);
    }

    [Fact]
    public async Task ContentNegotiationFollowsTheOtherApis()
    {
        await using var app = new AgoraApplication();
        await RegisterAsync(app, Registration(Id));
        using var client = app.CreateClient();
        using var xml = new HttpRequestMessage(HttpMethod.Get, RegistrationPath(Id));
        xml.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/xml"));

        using var notAcceptable = await client.SendAsync(xml);
        using var plain = await client.GetAsync(RegistrationPath(Id));
        using var unsupported = await client.PostAsync(RegistrationsPath, Json(Registration("urn:ngsi-ld:ContextSourceRegistration:2"), "text/plain"));

        Assert.Equal(HttpStatusCode.NotAcceptable, notAcceptable.StatusCode);
        Assert.Equal("application/json", plain.Content.Headers.ContentType?.MediaType);
        Assert.Contains(plain.Headers.GetValues("Link"), l => l.Contains("json-ld#context", StringComparison.Ordinal));
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, unsupported.StatusCode);
    }

    [Fact]
    public async Task RegistrationsBelongToTheirTenant()
    {
        await using var app = new AgoraApplication();
        await RegisterAsync(app, Registration(Id), tenant: "north");
        using var north = app.CreateClient("north");
        using var south = app.CreateClient();

        using var inNorth = await north.GetAsync(RegistrationPath(Id));
        using var inDefault = await south.GetAsync(RegistrationPath(Id));

        Assert.Equal(HttpStatusCode.OK, inNorth.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, inDefault.StatusCode);
    }

    [Fact]
    public async Task OverlappingExclusiveRegistrationsConflict()
    {
        await using var app = new AgoraApplication();
        const string Exclusive = """, "mode": "exclusive" """;
        await RegisterAsync(app, Registration(Id, Exclusive, """[{"entities": [{"type": "Building", "id": "urn:ngsi-ld:Building:1"}], "propertyNames": ["name", "height"]}]"""));

        using var sameAttribute = await CreateAsync(app, Registration("urn:ngsi-ld:ContextSourceRegistration:2", Exclusive,
            """[{"entities": [{"type": "Building", "id": "urn:ngsi-ld:Building:1"}], "propertyNames": ["height"]}]"""));
        using var otherAttribute = await CreateAsync(app, Registration("urn:ngsi-ld:ContextSourceRegistration:3", Exclusive,
            """[{"entities": [{"type": "Building", "id": "urn:ngsi-ld:Building:1"}], "propertyNames": ["colour"]}]"""));
        using var inclusive = await CreateAsync(app, Registration("urn:ngsi-ld:ContextSourceRegistration:4", "",
            """[{"entities": [{"type": "Building", "id": "urn:ngsi-ld:Building:1"}], "propertyNames": ["height"]}]"""));
        using var patchedIntoOverlap = await PatchAsync(app, "urn:ngsi-ld:ContextSourceRegistration:4", """{"mode": "exclusive"}""");

        await ProblemAsync(sameAttribute, HttpStatusCode.Conflict, "Conflict");
        Assert.Equal(HttpStatusCode.Created, otherAttribute.StatusCode);
        Assert.Equal(HttpStatusCode.Created, inclusive.StatusCode);
        await ProblemAsync(patchedIntoOverlap, HttpStatusCode.Conflict, "Conflict");
    }
}
