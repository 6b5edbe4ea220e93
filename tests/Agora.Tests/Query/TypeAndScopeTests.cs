using Agora.Errors;
using Agora.JsonLd;
using Agora.Query;

namespace Agora.Tests.Query;

public sealed class TypeAndScopeTests
{
    private const string D = "https://uri.etsi.org/ngsi-ld/default-context/";

    [Theory]
    [InlineData("Building", true)]
    [InlineData("Vehicle", false)]
    [InlineData("Vehicle,Building", true)]
    [InlineData("Vehicle|Building", true)]
    [InlineData("Building;Landmark", true)]
    [InlineData("Building;Vehicle", false)]
    [InlineData("Vehicle|Building;Landmark", true)]
    [InlineData("(Vehicle|Building);Park", false)]
    [InlineData("(Vehicle,Building);(Landmark|Park)", true)]
    [InlineData("https://uri.etsi.org/ngsi-ld/default-context/Landmark", true)]
    [InlineData("https://ngsi-ld-test-suite/context#Building", false)]
    public void TypeSelectionsMatchAnEntitysTypes(string selection, bool expected) =>
        Assert.Equal(expected, TypeSelection.Parse(selection).Matches([D + "Building", D + "Landmark"], JsonLdContext.Core));

    [Fact]
    public void PlainDisjunctionsListTheirTypes()
    {
        Assert.Equal([D + "A"], TypeSelection.Parse("A").SimpleTypes(JsonLdContext.Core));
        Assert.Equal([D + "A", D + "B", D + "C"], TypeSelection.Parse("A,B|(C|A)").SimpleTypes(JsonLdContext.Core));
        Assert.Null(TypeSelection.Parse("A;B").SimpleTypes(JsonLdContext.Core));
        Assert.Null(TypeSelection.Parse("A|(B;C)").SimpleTypes(JsonLdContext.Core));
    }

    [Theory]
    [InlineData("", 1)]
    [InlineData("A,", 3)]
    [InlineData("(A", 3)]
    [InlineData("A)", 2)]
    [InlineData("A;;B", 3)]
    [InlineData("A B", 1)]
    [InlineData("A(B)", 2)]
    public void MalformedTypeSelectionsAreRejectedWithTheirPosition(string selection, int position)
    {
        var e = Assert.Throws<NgsiLdException>(() => TypeSelection.Parse(selection));
        Assert.Equal(ErrorTypes.BadRequestData, e.Type);
        Assert.Contains($"position {position}", e.Detail, StringComparison.Ordinal);
    }

    private static readonly string[] OneScope = ["/Madrid/Gardens/ParqueNorte"];
    private static readonly string[] ManyScopes = ["/Madrid/Gardens/ParqueNorte", "/CompanyA/OrganizationB/UnitC"];

    [Theory]
    [InlineData("/Madrid/Gardens/ParqueNorte", true, true)]
    [InlineData("/Madrid/+/ParqueNorte", true, true)]
    [InlineData("/CompanyA/#", false, true)]
    [InlineData("/#", true, true)]
    [InlineData("/Madrid/Gardens/ParqueNorte;/CompanyA/OrganizationB/UnitC", false, true)]
    [InlineData("/Madrid/Gardens/ParqueNorte,/CompanyA/OrganizationB/UnitC", true, true)]
    [InlineData("/Madrid/Gardens/ParqueNorte|/CompanyA/OrganizationB/UnitC", true, true)]
    [InlineData("/Madrid", false, false)]
    [InlineData("/Madrid/#", true, true)]
    [InlineData("/Madrid/Gardens/ParqueNorte/#", true, true)]
    [InlineData("/Madrid/+", false, false)]
    [InlineData("/+/+/+", true, true)]
    [InlineData("(/Madrid/#|/Paris);/CompanyA/+/UnitC", false, true)]
    public void ScopeQueriesMatchAsTheSuiteExpects(string scopeQ, bool one, bool many)
    {
        var query = ScopeQuery.Parse(scopeQ);
        Assert.Equal(one, query.Matches(OneScope));
        Assert.Equal(many, query.Matches(ManyScopes));
        Assert.False(query.Matches([]));
    }

    [Theory]
    [InlineData("", 1)]
    [InlineData("Madrid", 1)]
    [InlineData("/Madrid/", 9)]
    [InlineData("/Madrid/#/x", 10)]
    [InlineData("/Ma+drid", 2)]
    [InlineData("/a,", 4)]
    [InlineData("(/a", 4)]
    [InlineData("/a b", 2)]
    public void MalformedScopeQueriesAreRejectedWithTheirPosition(string scopeQ, int position)
    {
        var e = Assert.Throws<NgsiLdException>(() => ScopeQuery.Parse(scopeQ));
        Assert.Equal(ErrorTypes.BadRequestData, e.Type);
        Assert.Contains($"position {position}", e.Detail, StringComparison.Ordinal);
    }
}
