/* deliberately untidy: ecl fmt rewrites a copy of it in the tests */
policy   untidy{
  let   x=1;let y = x*2   // two statements on one line



  if x>0{ require y>=2,"y too small" }
  else   { log( "never" ) }
     let z = [ 1,2 , 3 ]   [ 0 ]
  return z+-1 > 0 ? x : y
}
