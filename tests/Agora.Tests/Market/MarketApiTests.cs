using System.Net;
using System.Text.Json.Nodes;
using Agora.Security;
using Agora.Tests.Security;
using Microsoft.Extensions.DependencyInjection;
using static Agora.Tests.AgoraApplication;

namespace Agora.Tests.Market;

/// The market's administration API: data sources, offerings and their terms, agreements and their states.
public sealed class MarketApiTests
{
    private const string Base = MarketAgora.Base;
    private const string Core = "https://uri.etsi.org/ngsi-ld/default-context/";
    internal const string AirQuality = """{"name": "Air quality", "entityTypes": ["AirQualityObserved"], "attributes": ["NO2", "PM10"]}""";

    [Fact]
    public async Task ADataSourceKeepsExpandedNamesItsAreaAndItsHistoryWindow()
    {
        await using var market = new MarketAgora();
        var body = $$$"""
            {"name": "Centro", "entityTypes": ["AirQualityObserved"], "idPattern": "^urn:ngsi-ld:AirQualityObserved:",
             "attributes": ["NO2", "https://smartdatamodels.org/dataModel.Environment/PM10"],
             "area": {{{MarketAgora.District}}}, "history": {"allowed": true, "window": "P30D"}}
            """;

        var id = await market.DataSourceAsync(body);
        using var read = await market.Admin.GetAsync($"{Base}/datasources/{id}");
        var source = await SecuredAgora.JsonAsync(read);

        Assert.Equal(HttpStatusCode.OK, read.StatusCode);
        NgsiLdAssert.JsonEqual($$"""["{{Core}}AirQualityObserved"]""", source["entityTypes"]);
        NgsiLdAssert.JsonEqual($$"""["{{Core}}NO2", "https://smartdatamodels.org/dataModel.Environment/PM10"]""", source["attributes"]);
        NgsiLdAssert.JsonEqual(MarketAgora.District, source["area"]);
        NgsiLdAssert.JsonEqual("""{"allowed": true, "window": "P30D"}""", source["history"]);
    }

    [Fact]
    public async Task ShortNamesAreExpandedWithTheRequestsContext()
    {
        await using var market = new MarketAgora();
        using var inline = await market.Admin.PostAsync(Base + "/datasources", Json("""
            {"@context": {"AirQualityObserved": "https://example.org/AQO", "NO2": "https://example.org/no2"},
             "name": "Inline", "entityTypes": ["AirQualityObserved"], "attributes": ["NO2"]}
            """, "application/ld+json"));

        var source = await SecuredAgora.JsonAsync(inline);
        Assert.Equal(HttpStatusCode.Created, inline.StatusCode);
        NgsiLdAssert.JsonEqual("""["https://example.org/AQO"]""", source["entityTypes"]);
        NgsiLdAssert.JsonEqual("""["https://example.org/no2"]""", source["attributes"]);
    }

    [Theory]
    [InlineData("""{"entityTypes": ["A"]}""", "name")]
    [InlineData("""{"name": "x", "entityTypes": []}""", "entityTypes")]
    [InlineData("""{"name": "x", "entityTypes": ["A"], "idPattern": "(("}""", "idPattern")]
    [InlineData("""{"name": "x", "entityTypes": ["A"], "attributes": ["bad name"]}""", "attribute")]
    [InlineData("""{"name": "x", "entityTypes": ["A"], "area": {"type": "Point", "coordinates": [1, 2]}}""", "area")]
    [InlineData("""{"name": "x", "entityTypes": ["A"], "area": {"type": "Polygon", "coordinates": 3}}""", "area")]
    [InlineData("""{"name": "x", "entityTypes": ["A"], "history": {"allowed": true, "window": "30 days"}}""", "history.window")]
    [InlineData("""{"name": "x", "entityTypes": ["A"], "history": {"allowed": false, "window": "P1D"}}""", "history.window")]
    [InlineData("""{"name": "x", "entityTypes": ["A"], "history": true}""", "history")]
    public async Task ABadDataSourceIsBadRequestDataNamingTheMember(string body, string member)
    {
        await using var market = new MarketAgora();

        using var response = await market.Admin.PostAsync(Base + "/datasources", Json(body));

        var problem = await NgsiLdAssert.ProblemAsync(response, HttpStatusCode.BadRequest, "BadRequestData");
        Assert.Contains(member, (string?)problem["detail"] ?? (string?)problem["title"], StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("\"CC-BY-4.0\"")]
    [InlineData("\"http://publications.europa.eu/resource/authority/licence/CC_BY_4_0\"")]
    [InlineData("""{"purpose": "research", "region": "ES-MD", "period": {"start": "2026-01-01T00:00:00Z", "end": "2036-01-01T00:00:00Z"}, "exclusivity": true, "resale": false}""")]
    public async Task EachLicenceFormIsKept(string licence)
    {
        await using var market = new MarketAgora();
        var source = await market.DataSourceAsync(AirQuality);

        var id = await market.OfferingAsync(source, $"\"licence\": {licence}");
        using var read = await market.Admin.GetAsync($"{Base}/offerings/{id}");

        NgsiLdAssert.JsonEqual(licence, (await SecuredAgora.JsonAsync(read))["licence"]);
    }

    [Theory]
    [InlineData("""{"type": "free"}""")]
    [InlineData("""{"type": "oneTime", "currency": "EUR", "amount": 250}""")]
    [InlineData("""{"type": "recurring", "currency": "EUR", "amount": 30, "period": "P1M"}""")]
    [InlineData("""{"type": "perUse", "currency": "USD", "amount": 0.002}""")]
    public async Task EachPricePlanFormIsRecordedAndFrozenInTheAgreement(string plan)
    {
        await using var market = new MarketAgora();
        var source = await market.DataSourceAsync(AirQuality);
        var id = await market.OfferingAsync(source, $"\"pricePlan\": {plan}, \"quotas\": {{\"callsPerDay\": 100}}, \"sla\": {{\"availability\": 99.5, \"responseTimeMs\": 300}}");
        using var consumer = await market.AccountAsync();

        var agreement = await MarketAgora.RequestAsync(consumer, id);

        NgsiLdAssert.JsonEqual(plan, agreement["terms"]!["pricePlan"]);
        NgsiLdAssert.JsonEqual("""{"availability": 99.5, "responseTimeMs": 300}""", agreement["terms"]!["sla"]);
    }

    [Theory]
    [InlineData("\"licence\": \"not a licence\"", "licence")]
    [InlineData("\"licence\": {\"purpose\": \"research\"}", "licence.region")]
    [InlineData("\"licence\": {\"purpose\": \"r\", \"region\": \"ES\", \"colour\": \"red\"}", "licence.colour")]
    [InlineData("\"licence\": {\"purpose\": \"r\", \"region\": \"ES\", \"period\": {\"start\": \"2027-01-01T00:00:00Z\", \"end\": \"2026-01-01T00:00:00Z\"}}", "licence.period")]
    [InlineData("\"licence\": {\"purpose\": \"r\", \"region\": \"ES\", \"period\": \"always\"}", "licence.period")]
    [InlineData("\"accessMode\": \"maybe\"", "accessMode")]
    [InlineData("\"pricePlan\": {\"type\": \"barter\"}", "pricePlan.type")]
    [InlineData("\"pricePlan\": {\"type\": \"oneTime\", \"amount\": 3}", "pricePlan.currency")]
    [InlineData("\"pricePlan\": {\"type\": \"oneTime\", \"currency\": \"euro\", \"amount\": 3}", "pricePlan.currency")]
    [InlineData("\"pricePlan\": {\"type\": \"perUse\", \"currency\": \"EUR\", \"amount\": -1}", "pricePlan.amount")]
    [InlineData("\"pricePlan\": {\"type\": \"recurring\", \"currency\": \"EUR\", \"amount\": 1}", "pricePlan.period")]
    [InlineData("\"pricePlan\": {\"type\": \"free\", \"amount\": 1}", "pricePlan.amount")]
    [InlineData("\"quotas\": {\"callsPerDay\": 0}", "quotas.callsPerDay")]
    [InlineData("\"quotas\": {\"callsPerWeek\": 5}", "quotas.callsPerWeek")]
    [InlineData("\"sla\": {\"availability\": 120}", "sla.availability")]
    [InlineData("\"sla\": {\"responseTimeMs\": \"fast\"}", "sla.responseTimeMs")]
    [InlineData("\"dataSource\": \"ds-nothere\"", "dataSource")]
    [InlineData("\"title\": 7", "title")]
    [InlineData("\"price\": 7", "price")]
    public async Task ABadOfferingIsBadRequestDataNamingTheMember(string member, string name)
    {
        await using var market = new MarketAgora();
        var source = await market.DataSourceAsync(AirQuality);
        var offering = JsonNode.Parse($$$"""{"dataSource": "{{{source}}}", "title": "t", "licence": "CC0-1.0", "accessMode": "open", "pricePlan": {"type": "free"}}""")!.AsObject();
        foreach (var (key, value) in JsonNode.Parse("{" + member + "}")!.AsObject().ToList())
        {
            offering[key] = value?.DeepClone();
        }

        using var response = await market.Admin.PostAsync(Base + "/offerings", Json(offering.ToJsonString()));

        var problem = await NgsiLdAssert.ProblemAsync(response, HttpStatusCode.BadRequest, "BadRequestData");
        Assert.StartsWith(name, (string?)problem["detail"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnOfferingWithoutItsRequiredTermsIsRefused()
    {
        await using var market = new MarketAgora();

        using var response = await market.Admin.PostAsync(Base + "/offerings", Json("""{"title": "t"}"""));

        var problem = await NgsiLdAssert.ProblemAsync(response, HttpStatusCode.BadRequest);
        Assert.StartsWith("dataSource is required", (string?)problem["detail"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task ClosedDraftAndRetiredOfferingsTakeNoAgreements()
    {
        await using var market = new MarketAgora();
        var source = await market.DataSourceAsync(AirQuality);
        var closed = await market.OfferingAsync(source, "\"accessMode\": \"closed\"");
        var draft = await market.OfferingAsync(source, publish: false);
        var retired = await market.OfferingAsync(source);
        (await market.Admin.PostAsync($"{Base}/offerings/{retired}/retire", null)).Dispose();
        using var consumer = await market.AccountAsync();

        using var toClosed = await consumer.PostAsync(Base + "/agreements", Json($$"""{"offering": "{{closed}}", "consumer": "Acme Mobility"}"""));
        using var toDraft = await consumer.PostAsync(Base + "/agreements", Json($$"""{"offering": "{{draft}}", "consumer": "Acme Mobility"}"""));
        using var toRetired = await consumer.PostAsync(Base + "/agreements", Json($$"""{"offering": "{{retired}}", "consumer": "Acme Mobility"}"""));
        using var noConsumer = await market.Admin.PostAsync(Base + "/agreements", Json($$"""{"offering": "{{closed}}"}"""));
        using var republish = await market.Admin.PostAsync($"{Base}/offerings/{retired}/publish", null);

        await NgsiLdAssert.ProblemAsync(toClosed, HttpStatusCode.Conflict, "Conflict");
        await NgsiLdAssert.ProblemAsync(toDraft, HttpStatusCode.NotFound, "ResourceNotFound");
        await NgsiLdAssert.ProblemAsync(toRetired, HttpStatusCode.NotFound);
        await NgsiLdAssert.ProblemAsync(noConsumer, HttpStatusCode.BadRequest);
        await NgsiLdAssert.ProblemAsync(republish, HttpStatusCode.Conflict);
    }

    [Fact]
    public async Task EachStateChangeFollowsTheLifeOfAnAgreement()
    {
        await using var market = new MarketAgora();
        var offering = await market.OfferingAsync(await market.DataSourceAsync(AirQuality));
        using var consumer = await market.AccountAsync();
        var rejected = (string)(await MarketAgora.RequestAsync(consumer, offering))["id"]!;
        var (agreement, key) = await market.AgreementAsync(AirQuality);

        await market.ActAsync(rejected, "reject");
        await market.ActAsync(rejected, "approve", HttpStatusCode.Conflict);
        await market.ActAsync(agreement, "resume", HttpStatusCode.Conflict);
        Assert.Equal("suspended", (string?)(await market.ActAsync(agreement, "suspend"))["state"]);
        Assert.Equal("active", (string?)(await market.ActAsync(agreement, "resume"))["state"]);
        Assert.Equal("terminated", (string?)(await market.ActAsync(agreement, "terminate"))["state"]);
        await market.ActAsync(agreement, "resume", HttpStatusCode.Conflict);
        using var revoked = market.Consumer(key);
        using var read = await revoked.GetAsync(EntitiesPath + "?type=AirQualityObserved");
        using var unknown = await market.Admin.PostAsync($"{Base}/agreements/ag-0000/approve", null);

        Assert.Equal(HttpStatusCode.Unauthorized, read.StatusCode);
        await NgsiLdAssert.ProblemAsync(unknown, HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task AnAgreementKeepsTheTermsItWasMadeUnder()
    {
        await using var market = new MarketAgora();
        var offering = await market.OfferingAsync(await market.DataSourceAsync(AirQuality), "\"quotas\": {\"callsPerDay\": 100}");
        using var consumer = await market.AccountAsync();
        var id = (string)(await MarketAgora.RequestAsync(consumer, offering))["id"]!;

        using var patched = await market.Admin.PatchAsync($"{Base}/offerings/{offering}", Json("""{"quotas": {"callsPerDay": 5}, "licence": "ODbL-1.0"}"""));
        using var read = await consumer.GetAsync($"{Base}/agreements/{id}");
        var terms = (await SecuredAgora.JsonAsync(read))["terms"]!;

        Assert.Equal(HttpStatusCode.OK, patched.StatusCode);
        Assert.Equal(5, (int)(await SecuredAgora.JsonAsync(patched))["quotas"]!["callsPerDay"]!);
        Assert.Equal(100, (int)terms["quotas"]!["callsPerDay"]!);
        Assert.Equal("CC-BY-4.0", (string?)terms["licence"]);
        Assert.Equal("Air quality", (string?)terms["dataSource"]!["name"]);
    }

    [Fact]
    public async Task AConsumerSeesItsOwnAgreementsAndPublishedOfferingsOnly()
    {
        await using var market = new MarketAgora();
        var source = await market.DataSourceAsync(AirQuality);
        var published = await market.OfferingAsync(source);
        var draft = await market.OfferingAsync(source, publish: false);
        using var first = await market.AccountAsync("First");
        using var second = await market.AccountAsync("Second");
        var mine = (string)(await MarketAgora.RequestAsync(first, published, "First"))["id"]!;
        var theirs = (string)(await MarketAgora.RequestAsync(second, published, "Second"))["id"]!;

        using var list = await first.GetAsync(Base + "/agreements");
        using var other = await first.GetAsync($"{Base}/agreements/{theirs}");
        using var usage = await first.GetAsync($"{Base}/agreements/{theirs}/usage");
        using var offerings = await first.GetAsync(Base + "/offerings");
        using var hidden = await first.GetAsync($"{Base}/offerings/{draft}");
        using var all = await market.Admin.GetAsync(Base + "/agreements");

        Assert.Equal([mine], (await SecuredAgora.JsonAsync(list)).AsArray().Select(a => (string)a!["id"]!));
        await NgsiLdAssert.ProblemAsync(other, HttpStatusCode.NotFound);
        await NgsiLdAssert.ProblemAsync(usage, HttpStatusCode.NotFound);
        Assert.Equal([published], (await SecuredAgora.JsonAsync(offerings)).AsArray().Select(o => (string)o!["id"]!));
        await NgsiLdAssert.ProblemAsync(hidden, HttpStatusCode.NotFound);
        Assert.Equal(2, (await SecuredAgora.JsonAsync(all)).AsArray().Count);
    }

    [Fact]
    public async Task AConsumerCannotChangeTheMarket()
    {
        await using var market = new MarketAgora();
        var source = await market.DataSourceAsync(AirQuality);
        var offering = await market.OfferingAsync(source);
        using var consumer = await market.AccountAsync();
        var id = (string)(await MarketAgora.RequestAsync(consumer, offering))["id"]!;

        using var define = await consumer.PostAsync(Base + "/datasources", Json(AirQuality));
        using var sources = await consumer.GetAsync(Base + "/datasources");
        using var offer = await consumer.PostAsync(Base + "/offerings", Json("{}"));
        using var approve = await consumer.PostAsync($"{Base}/agreements/{id}/approve", null);

        foreach (var response in new[] { define, sources, offer, approve })
        {
            await NgsiLdAssert.ProblemAsync(response, HttpStatusCode.Forbidden);
        }
    }

    [Fact]
    public async Task TheCityMakesAnAgreementOnBehalfOfAConsumer()
    {
        await using var market = new MarketAgora();
        var offering = await market.OfferingAsync(await market.DataSourceAsync(AirQuality));

        var agreement = await MarketAgora.RequestAsync(market.Admin, offering, "Universidad Politécnica");
        var approved = await market.ActAsync((string)agreement["id"]!, "approve");

        Assert.Equal("Universidad Politécnica", (string?)approved["consumer"]);
        Assert.Equal("active", (string?)approved["state"]);
    }

    [Fact]
    public async Task AnAgreementEndsWithItsLicencePeriodAndNeverInThePast()
    {
        await using var market = new MarketAgora();
        var offering = await market.OfferingAsync(await market.DataSourceAsync(AirQuality),
            """ "accessMode": "open", "licence": {"purpose": "research", "region": "ES", "period": {"end": "2036-01-01T00:00:00Z"}} """);
        using var consumer = await market.AccountAsync();
        var agreement = await MarketAgora.RequestAsync(consumer, offering);
        using var late = await consumer.PostAsync(Base + "/agreements", Json($$"""{"offering": "{{offering}}", "consumer": "Acme Mobility", "endAt": "2020-01-01T00:00:00Z"}"""));

        Assert.Equal("2036-01-01T00:00:00Z", (string?)agreement["endAt"]);
        await NgsiLdAssert.ProblemAsync(late, HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task ADataSourceInUseCannotBeDeleted()
    {
        await using var market = new MarketAgora();
        var used = await market.DataSourceAsync(AirQuality);
        var unused = await market.DataSourceAsync(AirQuality);
        await market.OfferingAsync(used);

        using var inUse = await market.Admin.DeleteAsync($"{Base}/datasources/{used}");
        using var deleted = await market.Admin.DeleteAsync($"{Base}/datasources/{unused}");
        using var gone = await market.Admin.GetAsync($"{Base}/datasources/{unused}");

        await NgsiLdAssert.ProblemAsync(inUse, HttpStatusCode.Conflict);
        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        await NgsiLdAssert.ProblemAsync(gone, HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task AnotherTenantsMarketIsNotFound()
    {
        await using var market = new MarketAgora("madrid");
        var source = await market.DataSourceAsync(AirQuality);
        var offering = await market.OfferingAsync(source);
        using var sevilla = market.App.Client(market.App.Key("sevilla", Role.Admin), "sevilla");

        using var readSource = await sevilla.GetAsync($"{Base}/datasources/{source}");
        using var readOffering = await sevilla.GetAsync($"{Base}/offerings/{offering}");
        using var request = await sevilla.PostAsync(Base + "/agreements", Json($$"""{"offering": "{{offering}}", "consumer": "x"}"""));

        await NgsiLdAssert.ProblemAsync(readSource, HttpStatusCode.NotFound);
        await NgsiLdAssert.ProblemAsync(readOffering, HttpStatusCode.NotFound);
        await NgsiLdAssert.ProblemAsync(request, HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task EveryAgreementChangeIsAuditedWithItsActor()
    {
        await using var market = new MarketAgora();
        var (agreement, _) = await market.AgreementAsync(AirQuality);
        await market.ActAsync(agreement, "suspend");
        await market.ActAsync(agreement, "terminate");

        using var audit = await market.Admin.GetAsync("/admin/v1/audit?decision=changed");
        var reasons = (await SecuredAgora.JsonAsync(audit)).AsArray().Where(e => ((string)e!["reason"]!).Contains(agreement, StringComparison.Ordinal)).ToList();

        Assert.Equal(5, reasons.Count);
        Assert.Contains("requested", (string)reasons[0]!["reason"]!, StringComparison.Ordinal);
        Assert.Contains("approved", (string)reasons[1]!["reason"]!, StringComparison.Ordinal);
        Assert.Contains("collected by consumer 'Acme Mobility'", (string)reasons[2]!["reason"]!, StringComparison.Ordinal);
        Assert.Contains("suspended", (string)reasons[3]!["reason"]!, StringComparison.Ordinal);
        Assert.Contains("terminated", (string)reasons[4]!["reason"]!, StringComparison.Ordinal);
        Assert.All(reasons, e => Assert.NotNull((string?)e!["actor"]));
    }

    [Fact]
    public async Task UsageIsExportedAsCsv()
    {
        await using var market = new MarketAgora();
        var (agreement, _) = await market.AgreementAsync(AirQuality);

        using var csv = await market.Admin.GetAsync($"{Base}/agreements/{agreement}/usage?format=csv");
        using var bad = await market.Admin.GetAsync($"{Base}/agreements/{agreement}/usage?format=xml");

        Assert.Equal("text/csv", csv.Content.Headers.ContentType?.MediaType);
        Assert.StartsWith("agreement,day,calls,entities,bytes,notifications,notificationsDropped,timedCalls,meanMs,p95Ms,maxMs,serverErrors,availability,slaMet\n",
            await csv.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        await NgsiLdAssert.ProblemAsync(bad, HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task TheMarketIsNotMappedInOpenMode()
    {
        await using var app = new AgoraApplication();
        using var client = app.CreateClient();

        using var response = await client.GetAsync(Base + "/offerings");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [SqliteFact]
    public async Task TheMarketDatabaseIsForItsOwnerOnly()
    {
        if (OperatingSystem.IsWindows())
        {
            return; // file modes are POSIX
        }
        await using var market = new MarketAgora();
        await market.DataSourceAsync(AirQuality);
        var data = market.App.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<Agora.Hosting.AgoraOptions>>().Value.Data;

        var mode = File.GetUnixFileMode(Path.Combine(data, "market.sqlite"));

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, mode);
    }

    [Fact]
    public async Task TheOpenApiDocumentDescribesEveryMappedRouteAndNoOther()
    {
        await using var market = new MarketAgora();
        using var anonymous = market.App.CreateClient();

        using var response = await anonymous.GetAsync(Base + "/openapi.json");
        var document = (await SecuredAgora.JsonAsync(response)).AsObject();
        var described = document["paths"]!.AsObject()
            .SelectMany(p => p.Value!.AsObject().Select(op => op.Key.ToUpperInvariant() + " " + p.Key))
            .Order().ToList();
        var mapped = market.App.Services.GetRequiredService<Microsoft.AspNetCore.Routing.EndpointDataSource>().Endpoints
            .OfType<Microsoft.AspNetCore.Routing.RouteEndpoint>()
            .Where(e => e.RoutePattern.RawText!.StartsWith(Base, StringComparison.Ordinal))
            .SelectMany(e => e.Metadata.GetMetadata<Microsoft.AspNetCore.Routing.HttpMethodMetadata>()!.HttpMethods.Select(m => m + " " + e.RoutePattern.RawText))
            .Order().ToList();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.StartsWith("3.", (string?)document["openapi"], StringComparison.Ordinal);
        Assert.Equal(mapped, described);
    }

    [Fact]
    public async Task UsageMeasuresTheResponseTimesAndAvailabilityOfTheCallsBesideTheSla()
    {
        await using var market = await EnforcementTests.CityAsync();
        var (agreement, key) = await market.AgreementAsync(EnforcementTests.Source, """ "sla": {"availability": 99.5, "responseTimeMs": 60000} """);
        using var consumer = market.Consumer(key);
        for (var i = 0; i < 5; i++)
        {
            using var read = await consumer.GetAsync(EntitiesPath + "?type=AirQualityObserved");
            Assert.Equal(HttpStatusCode.OK, read.StatusCode);
        }
        using (var refused = await consumer.GetAsync(EntitiesPath + "?type=WeatherObserved"))
        {
            Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        }

        var usage = await SecuredAgora.JsonAsync(await market.Admin.GetAsync($"{Base}/agreements/{agreement}/usage"));
        var csv = (await (await market.Admin.GetAsync($"{Base}/agreements/{agreement}/usage?format=csv")).Content.ReadAsStringAsync()).Split('\n');

        var today = usage["days"]!.AsArray().Single()!;
        var time = today["responseTime"]!;
        Assert.Equal(99.5, (double)usage["sla"]!["availability"]!);
        Assert.Equal(5, (int)time["calls"]!);
        Assert.InRange((double)time["meanMs"]!, 0, (double)time["maxMs"]!);
        Assert.InRange((int)time["p95Ms"]!, 0, (int)time["maxMs"]!);
        Assert.Equal(0, (int)today["serverErrors"]!);
        Assert.Equal(100, (double)today["availability"]!);
        Assert.True((bool)today["slaMet"]!);
        var row = csv[1].Split(',');
        Assert.Equal(["5", "0", "100", "true"], [row[7], row[11], row[12], row[13]]);
    }

    [Fact]
    public void ADayWithServerErrorsOrSlowCallsMissesTheSla()
    {
        var day = new Agora.Market.UsageDay("ag-1", "2026-11-26", 10, 0, 0, 0, 0, Timed: 10, TimeMs: 3000, MaxMs: 900, ServerErrors: 1, P95Ms: 512);
        var sla = JsonNode.Parse("""{"availability": 99.5, "responseTimeMs": 500}""")!.AsObject();

        var measured = Agora.Market.MarketApi.Measured(day, sla);
        var met = Agora.Market.MarketApi.Measured(day with { ServerErrors = 0, P95Ms = 256 }, sla);

        Assert.Equal(90, (double)measured["availability"]!);
        Assert.Equal(300, (double)measured["meanMs"]!);
        Assert.False((bool)measured["slaMet"]!);
        Assert.Equal(2, measured["slaMisses"]!.AsArray().Count);
        Assert.True((bool)met["slaMet"]!);
        Assert.Null(Agora.Market.MarketApi.Measured(day, null)["slaMet"]);
    }

    [Fact]
    public async Task ADataSourceChangesForAgreementsMadeLaterOnly()
    {
        await using var market = await EnforcementTests.CityAsync();
        var source = await market.DataSourceAsync(EnforcementTests.Source);
        var offering = await market.OfferingAsync(source);
        using var requester = await market.AccountAsync();
        var before = await MarketAgora.CollectAsync(requester, (string)(await market.ActAsync((string)(await MarketAgora.RequestAsync(requester, offering))["id"]!, "approve"))["id"]!);

        using var changed = await market.Admin.PatchAsync($"{Base}/datasources/{source}", Json("""{"attributes": ["NO2"], "area": null}"""));
        using var badArea = await market.Admin.PatchAsync($"{Base}/datasources/{source}", Json("""{"area": {"type": "Point", "coordinates": [1, 2]}}"""));
        using var unknown = await market.Admin.PatchAsync($"{Base}/datasources/{source}", Json("""{"colour": "red"}"""));
        using var noTypes = await market.Admin.PatchAsync($"{Base}/datasources/{source}", Json("""{"entityTypes": null}"""));
        var stored = await EnforcementTests.OkAsync(await market.Admin.GetAsync($"{Base}/datasources/{source}"));
        var after = await MarketAgora.CollectAsync(requester, (string)(await market.ActAsync((string)(await MarketAgora.RequestAsync(requester, offering))["id"]!, "approve"))["id"]!);
        using var oldKey = market.Consumer((string)before["key"]!);
        using var newKey = market.Consumer((string)after["key"]!);
        var oldRead = await EnforcementTests.OkAsync(await oldKey.GetAsync(EntitiesPath + "?type=AirQualityObserved&options=keyValues"));
        var newRead = await EnforcementTests.OkAsync(await newKey.GetAsync(EntitiesPath + "?type=AirQualityObserved&options=keyValues"));

        Assert.Equal(HttpStatusCode.OK, changed.StatusCode);
        await NgsiLdAssert.ProblemAsync(badArea, HttpStatusCode.BadRequest);
        await NgsiLdAssert.ProblemAsync(unknown, HttpStatusCode.BadRequest);
        await NgsiLdAssert.ProblemAsync(noTypes, HttpStatusCode.BadRequest);
        Assert.Null(stored["area"]);
        Assert.Equal(["https://uri.etsi.org/ngsi-ld/default-context/NO2"], stored["attributes"]!.AsArray().Select(a => (string)a!));
        Assert.Equal([EnforcementTests.Inside], EnforcementTests.Ids(oldRead));
        Assert.Equal(["NO2", "PM10", "id", "type"], EnforcementTests.Members(oldRead[0]!));
        Assert.Equal([EnforcementTests.Inside, EnforcementTests.Outside], EnforcementTests.Ids(newRead).Order());
        Assert.Equal(["NO2", "id", "type"], EnforcementTests.Members(newRead[0]!));
    }

    [Fact]
    public async Task AGeoJsonAnswerCountsItsFeaturesAsEntities()
    {
        await using var market = await EnforcementTests.CityAsync();
        var (agreement, key) = await market.AgreementAsync(EnforcementTests.Source);
        using var consumer = market.Consumer(key);
        using var request = new HttpRequestMessage(HttpMethod.Get, EntitiesPath + "?type=AirQualityObserved");
        request.Headers.Accept.ParseAdd("application/geo+json");

        using var answer = await consumer.SendAsync(request);
        var usage = await SecuredAgora.JsonAsync(await market.Admin.GetAsync($"{Base}/agreements/{agreement}/usage"));

        Assert.Single((await EnforcementTests.OkAsync(answer))["features"]!.AsArray());
        Assert.Equal(1, (int)usage["days"]![0]!["entities"]!);
    }
}
