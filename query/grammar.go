package query

import (
	"sync"

	"github.com/alecthomas/participle/v2"
	"github.com/alecthomas/participle/v2/lexer"
)

// The participle grammar: the executable specification of the filter language. Its parse
// tree (the g* types) is converted straight into the AST of ast.go by parseParticiple
// (parse.go); nothing else sees it. Layering Or -> And -> Not -> Term -> Predicate gives
// SQL precedence without left recursion. Parse uses the hand-written parser of rdparse.go,
// which implements this grammar; FuzzParsersAgree checks that the two agree, so a change
// to the language is made here first and then in rdparse.go.

// filterParser builds the participle parser on first use, so that programs that only
// call Parse do not pay for building it.
var filterParser = sync.OnceValue(func() *participle.Parser[gOr] {
	return participle.MustBuild[gOr](
		participle.Lexer(filterLexer),
		participle.CaseInsensitive("Keyword"),
	)
})

type gOr struct {
	Pos    lexer.Position
	Terms  []*gAnd `parser:"@@ ( 'OR' @@ )*"`
	EndPos lexer.Position
}

type gAnd struct {
	Pos    lexer.Position
	Terms  []*gNot `parser:"@@ ( 'AND' @@ )*"`
	EndPos lexer.Position
}

// gNot folds NOT, parentheses and predicates into one node: one struct level less per
// predicate makes participle noticeably faster.
type gNot struct {
	Pos    lexer.Position
	Not    *gNot  `parser:"(  'NOT' @@"`
	Paren  *gOr   `parser:" | '(' @@ ')'"`
	Pred   *gPred `parser:" | @@ )"`
	EndPos lexer.Position
}

type gPred struct {
	Pos    lexer.Position
	Field  string    `parser:"@Ident"`
	Cmp    *gCmp     `parser:"(  @@"`
	Is     *gIs      `parser:" | @@"`
	Neg    *gNegated `parser:" | @@ )?"`
	EndPos lexer.Position
}

type gIs struct {
	Pos lexer.Position
	Not bool `parser:"'IS' @'NOT'? 'NULL'"`
}

type gCmp struct {
	Pos   lexer.Position
	Op    string  `parser:"@Op"`
	Any   *gAny   `parser:"(  'ANY' @@"`
	Value *gValue `parser:" | @@ )"`
}

type gAny struct {
	Array  []*gValue `parser:"'(' ( 'ARRAY' '[' @@ ( ',' @@ )* ']'"`
	Values []*gValue `parser:"    | @@ ( ',' @@ )* ) ')'"`
}

type gNegated struct {
	Pos     lexer.Position
	Not     bool      `parser:"@'NOT'?"`
	Between *gBetween `parser:"(  @@"`
	In      []*gValue `parser:" | 'IN' '(' @@ ( ',' @@ )* ')'"`
	Like    *gLike    `parser:" | @@ )"`
}

type gBetween struct {
	Lo *gValue `parser:"'BETWEEN' @@"`
	Hi *gValue `parser:"'AND' @@"`
}

type gLike struct {
	Pos     lexer.Position
	Op      string  `parser:"@('LIKE' | 'ILIKE')"`
	Pattern *gValue `parser:"@@"`
}

type gValue struct {
	Pos    lexer.Position
	String *string `parser:"(  @String"`
	Minus  bool    `parser:" | @'-'?"`
	Number *string `parser:"   @Number"`
	Bool   *string `parser:" | @('TRUE' | 'FALSE')"`
	Null   bool    `parser:" | @'NULL'"`
	Type   *string `parser:" | @('INET' | 'TIMESTAMP')"`
	Typed  *string `parser:"   @String )"`
	EndPos lexer.Position
}
