package query_test

import (
	"errors"
	"fmt"

	"github.com/cipherscope/cipherscope/query"
)

func ExampleParse() {
	e, err := query.Parse("cipherKex='ECDHE' and (byteVolume > 1000000 or serviceName ~* 'mysql')")
	if err != nil {
		panic(err)
	}
	fmt.Println(e)
	// Output: cipherKex = 'ECDHE' AND (byteVolume > 1000000 OR serviceName ~* 'mysql')
}

func ExampleParse_error() {
	_, err := query.Parse("serverPort = 443 AND\nserverName LIKE")
	var list query.ErrorList
	if errors.As(err, &list) {
		fmt.Print(list.Pretty())
	}
	// Output:
	// filter:2:16: unexpected end of filter
	//   serverName LIKE
	//                  ^
	//   hint: expected a value: 'text', a number, TRUE, FALSE, NULL, INET '...' or TIMESTAMP '...'
}

func ExampleCompile() {
	st, err := query.Compile(query.Request{
		Dataset: query.Cert,
		Filter:  "certPublicKeySize < 2048 AND certAltNames ILIKE '%.example.com'",
		Columns: []string{"certFingerprint", "certPublicKeySize"},
		Sorts:   []query.Sort{{Field: "certPublicKeySize", Desc: false}},
		Limit:   10,
	}, query.DuckDB)
	if err != nil {
		panic(err)
	}
	fmt.Println(st.SQL)
	fmt.Println(st.Args)
	// Output:
	// SELECT "certFingerprint", "certPublicKeySize" FROM "cert" WHERE ("certPublicKeySize" < ?) AND (CASE coalesce(list_max(list_transform("certAltNames", lambda elem: coalesce(CAST((elem ILIKE ? ESCAPE '\') AS INTEGER) * 2, 1))), len("certAltNames") * 0) WHEN 2 THEN TRUE WHEN 0 THEN FALSE END) ORDER BY "certPublicKeySize" ASC NULLS LAST, "certFingerprint" ASC NULLS LAST LIMIT ?
	// [2048 %.example.com 10]
}

func ExampleCompile_errors() {
	_, err := query.Compile(query.Request{
		Dataset: query.Discovery,
		Filter:  "serverPort ~ '44' AND cipherSuit = 'x'",
		Columns: []string{"serverIP"},
	}, query.DuckDB)
	for _, e := range err.(query.ErrorList) {
		fmt.Printf("%s %d:%d %q %s (%s)\n", e.Param, e.Line, e.Column, e.Token, e.Message, e.Hint)
	}
	// Output:
	// filter 1:12 "~" regular expression operator ~ needs a string field; serverPort is an int field ()
	// filter 1:23 "cipherSuit" unknown field "cipherSuit" in dataset discovery (did you mean cipherSuite, cipherAuth, cipherKex?)
	// columns 1:1 "serverIP" unknown column "serverIP" in dataset discovery (did you mean serverIp, serverName, serverPort?)
}

func ExampleParseSort() {
	s, err := query.ParseSort("byteVolume DESC")
	fmt.Println(s.Field, s.Desc, err)
	_, err = query.ParseSort("byteVolume")
	fmt.Println(err)
	// Output:
	// byteVolume true <nil>
	// sorts:1:11: sort "byteVolume" has no direction
}
